import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { unitHash } from "../../src/graph/backoff.js";
import { StepFailure } from "../../src/graph/errors.js";
import type { ExecutionGraph } from "../../src/graph/factory.js";
import {
  type Command,
  type Decision,
  type RunEvent,
  type RunState,
  type StepState,
  TERMINAL_STEP_STATUSES,
} from "../../src/graph/types.js";
import type { StepDefinition } from "../../src/plan/schema.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";
import { factory, plan, T0 } from "./harness.js";

/**
 * Random plans, run once in order (the reference) and several times under hostile delivery: commands
 * and events picked in random order, duplicated, and old events replayed. Every schedule must end in
 * the same final state as the reference, and the decider must never ask for the same (key, attempt)
 * twice. Outcomes of tools, approvals and child runs are functions of (key, attempt), as they are for
 * a real deduplicated effect, so the schedule is the only thing that varies.
 */

// ---------------------------------------------------------------- plan shapes

type Shape =
  | { kind: "set"; when?: boolean }
  | { kind: "tool"; retry: number; onError: boolean; timeout: boolean; when?: boolean }
  | { kind: "branch"; jump: number; useDefault: boolean }
  | { kind: "wait" }
  | { kind: "approval"; onReject: boolean }
  | { kind: "child"; retry: number }
  | { kind: "parallel"; branches: Shape[][]; onError: boolean }
  | { kind: "map"; items: number; concurrency: number; body: Shape[]; onError: boolean };

const shapes = fc.letrec<{ flow: Shape[]; step: Shape }>((tie) => ({
  flow: fc.array(tie("step"), { minLength: 1, maxLength: 4 }),
  step: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.record({ kind: fc.constant("set" as const), when: fc.option(fc.boolean(), { nil: undefined }) }),
    fc.record({
      kind: fc.constant("tool" as const),
      retry: fc.integer({ min: 0, max: 3 }),
      onError: fc.boolean(),
      timeout: fc.boolean(),
      when: fc.option(fc.boolean(), { nil: undefined }),
    }),
    fc.record({
      kind: fc.constant("branch" as const),
      jump: fc.integer({ min: 1, max: 3 }),
      useDefault: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("wait" as const) }),
    fc.record({ kind: fc.constant("approval" as const), onReject: fc.boolean() }),
    fc.record({ kind: fc.constant("child" as const), retry: fc.integer({ min: 0, max: 2 }) }),
    fc.record({
      kind: fc.constant("parallel" as const),
      branches: fc.array(tie("flow"), { minLength: 1, maxLength: 3 }),
      onError: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant("map" as const),
      items: fc.integer({ min: 0, max: 4 }),
      concurrency: fc.integer({ min: 1, max: 3 }),
      body: tie("flow"),
      onError: fc.boolean(),
    }),
  ),
}));

/** Turn shapes into step definitions: ids s0, s1, … and forward-only jumps, so plans always pass the checks. */
function toSteps(flow: Shape[], ids: { next: number }): StepDefinition[] {
  const own = flow.map(() => `s${ids.next++}`);
  return flow.map((shape, i): StepDefinition => {
    const id = own[i]!;
    const prev = i > 0 ? own[i - 1] : undefined;
    const later = (offset: number) => own[Math.min(i + offset, own.length - 1)];
    const hasLater = i < own.length - 1;
    const prevRef = prev ? `steps.${prev}.output` : "null";
    const cond = (when?: boolean) =>
      when === undefined ? {} : { if: when ? "input.flag" : "$not(input.flag)" };
    switch (shape.kind) {
      case "set":
        return {
          id,
          type: "set",
          values: { id, prev: `{% ${prevRef} %}`, item: "{% item %}", index: "{% index %}" },
          ...cond(shape.when),
        };
      case "tool":
        return {
          id,
          type: "tool",
          tool: "sim.op",
          with: { id, item: "{% item %}", prev: `{% ${prevRef} %}`, canHang: shape.timeout },
          ...(shape.retry > 0
            ? {
                retry: {
                  max: shape.retry,
                  backoff: "exponential",
                  initial: 10,
                  maxDelay: 1000,
                  jitter: true,
                },
              }
            : {}),
          ...(shape.timeout ? { timeout: 5000 } : {}),
          ...(shape.onError && hasLater ? { onError: later(1)! } : {}),
          ...cond(shape.when),
        } as StepDefinition;
      case "branch":
        if (!hasLater) return { id, type: "set", values: { id } };
        return {
          id,
          type: "branch",
          cases: [{ when: "input.flag", next: later(shape.jump)! }],
          ...(shape.useDefault ? { default: later(1)! } : {}),
        };
      case "wait":
        return { id, type: "wait", duration: 1000 };
      case "approval":
        return {
          id,
          type: "approval",
          approvers: ["role:tester"],
          message: `ok {% $string(index) %}?`,
          ...(shape.onReject && hasLater ? { onReject: later(1)! } : {}),
        } as StepDefinition;
      case "child":
        return {
          id,
          type: "plan",
          plan: "sim.child",
          input: { id, item: "{% item %}" },
          ...(shape.retry > 0
            ? { retry: { max: shape.retry, backoff: "fixed", initial: 0, maxDelay: 0, jitter: false } }
            : {}),
        } as StepDefinition;
      case "parallel":
        return {
          id,
          type: "parallel",
          branches: shape.branches.map((branch) => ({ steps: toSteps(branch, ids) })),
          ...(shape.onError && hasLater ? { onError: later(1)! } : {}),
        } as StepDefinition;
      case "map":
        return {
          id,
          type: "map",
          items: `[${Array.from({ length: shape.items }, (_, n) => n * 10).join(",")}]`,
          concurrency: shape.concurrency,
          steps: toSteps(shape.body, ids),
          ...(shape.onError && hasLater ? { onError: later(1)! } : {}),
        } as StepDefinition;
      default:
        throw new Error(`unknown shape ${JSON.stringify(shape)}`);
    }
  });
}

// ---------------------------------------------------------------- deterministic outcomes

/** Why an execution produced no event: the worker "hung" and only the timeout timer can move on. */
const HANG = "simulated hang";

function outcome(seed: number, what: string, key: string, attempt: number): number {
  return unitHash(`${seed}|${what}|${key}|${attempt}`);
}

function simTool(seed: number): Tool {
  return {
    name: "sim.op",
    description: "simulated effect with scripted failures",
    input: z.unknown(),
    async run(input, ctx) {
      const u = outcome(seed, "tool", ctx.stepKey, ctx.attempt);
      if (u < 0.2) throw new StepFailure("transient", { code: "sim", retryable: true });
      if (u < 0.27) throw new StepFailure("fatal", { code: "sim", retryable: false });
      // Only steps with a timeout may hang: nothing else would ever move them on.
      if (u < 0.35 && (input as { canHang?: boolean }).canHang) throw new StepFailure(HANG, { code: "hang" });
      return { input, key: ctx.stepKey, attempt: ctx.attempt };
    },
  };
}

// ---------------------------------------------------------------- the simulator

type Work =
  | { kind: "execute"; command: Extract<Command, { type: "execute" }> }
  | { kind: "event"; event: RunEvent }
  | { kind: "approval"; key: string }
  | { kind: "child"; command: Extract<Command, { type: "start_child_run" }> };

interface Schedule {
  /** Undefined: in order (FIFO, nothing duplicated). */
  random?: () => number;
  /** Inject a run.cancelled after this many deliveries. */
  cancelAfter?: number;
}

interface Outcome {
  state: RunState;
  log: RunEvent[];
  executeIds: string[];
}

const AT = T0;

async function simulate(
  graph: ExecutionGraph,
  seed: number,
  input: unknown,
  schedule: Schedule,
): Promise<Outcome> {
  const rnd = schedule.random;
  const log: RunEvent[] = [];
  const executeIds: string[] = [];
  const executed = new Map<string, RunEvent | undefined>();
  const hung = new Set<string>();
  const lateTimers: RunEvent[] = [];
  const pool: Work[] = [];
  let replays = 0;

  const started: RunEvent = {
    type: "run.started",
    runId: "run",
    plan: { id: graph.plan.id, version: graph.plan.version, workflow: graph.plan.workflow },
    input,
    at: AT,
  };
  let state: RunState;
  const take = (decision: Decision) => {
    for (const command of decision.commands) {
      switch (command.type) {
        case "execute":
          executeIds.push(command.dedupeId);
          pool.push({ kind: "execute", command });
          break;
        case "schedule_timer": {
          const event: RunEvent = { type: "timer.fired", timerId: command.timerId, at: AT };
          // A timeout fires only for an attempt that hung; other timeouts arrive late, when they are stale.
          if (command.timerId.startsWith("wait:") || hung.has(timeoutDedupeId(command.timerId))) {
            pool.push({ kind: "event", event });
          } else {
            lateTimers.push(event);
          }
          break;
        }
        case "request_approval":
          pool.push({ kind: "approval", key: command.key });
          break;
        case "start_child_run":
          pool.push({ kind: "child", command });
          break;
        case "finish_run":
          break;
      }
    }
  };
  const apply = (event: RunEvent) => {
    const decision = graph.advance(state, event);
    if (!decision.accepted) {
      expect(decision.state).toBe(state);
      expect(decision.commands).toEqual([]);
      return;
    }
    log.push(event);
    state = decision.state;
    // Any later attempt to change an earlier state (the decider must copy) now throws.
    deepFreeze(state);
    expectConcurrencyLimits(graph, state);
    expectFinishedContainersQuiet(graph, state);
    take(decision);
  };
  /** Once an attempt has reported, its timeout timer can only be stale: deliver it at some point. */
  const releaseTimeout = (command: Extract<Command, { type: "execute" }>) => {
    const timer = `timeout:${command.key}:${command.attempt}`;
    const late = lateTimers.findIndex((t) => t.type === "timer.fired" && t.timerId === timer);
    if (late >= 0) pool.push({ kind: "event", event: lateTimers.splice(late, 1)[0]! });
  };

  const first = graph.start(started as Extract<RunEvent, { type: "run.started" }>);
  log.push(started);
  state = first.state;
  take(first);

  for (let guard = 0; pool.length > 0; guard++) {
    if (guard > 20_000) throw new Error("simulation did not settle");
    if (guard === schedule.cancelAfter)
      pool.push({ kind: "event", event: { type: "run.cancelled", by: "user:sim", at: AT } });
    const index = rnd ? Math.floor(rnd() * pool.length) : 0;
    const work = pool[index]!;
    if (rnd && rnd() < 0.15) {
      pool.push(work); // delivered twice
    } else {
      pool.splice(index, 1);
    }
    if (rnd && replays < 60 && log.length > 1 && rnd() < 0.2) {
      replays++;
      pool.push({ kind: "event", event: log[1 + Math.floor(rnd() * (log.length - 1))]! });
    }
    switch (work.kind) {
      case "event":
        apply(work.event);
        break;
      case "execute": {
        const { command } = work;
        if (executed.has(command.dedupeId)) {
          // A redelivered message: the dedupe claim hands back the stored result, which is sent again.
          const stored = executed.get(command.dedupeId);
          if (stored) apply(stored);
          break;
        }
        if (rnd && rnd() < 0.3)
          apply({ type: "step.started", key: command.key, attempt: command.attempt, at: AT });
        const event = await graph.execute(state, command, { at: () => AT });
        if (event.type === "step.failed" && event.error.message.includes(HANG)) {
          executed.set(command.dedupeId, undefined);
          hung.add(command.dedupeId);
          releaseTimeout(command);
          break;
        }
        executed.set(command.dedupeId, event);
        apply(event);
        releaseTimeout(command);
        break;
      }
      case "approval": {
        const grant = outcome(seed, "approval", work.key, 0) < 0.7;
        apply({
          type: grant ? "approval.granted" : "approval.denied",
          key: work.key,
          by: "user:sim",
          at: AT,
        });
        break;
      }
      case "child": {
        const { command } = work;
        const ok = outcome(seed, "child", command.key, command.attempt) < 0.75;
        apply(
          ok
            ? {
                type: "step.succeeded",
                key: command.key,
                attempt: command.attempt,
                output: { child: command.input },
                at: AT,
              }
            : {
                type: "step.failed",
                key: command.key,
                attempt: command.attempt,
                error: { message: "child failed", code: "child_failed" },
                at: AT,
              },
        );
        break;
      }
    }
  }
  for (const event of lateTimers) apply(event);
  // Nothing may change a finished run.
  if (state.status !== "running" && state.status !== "waiting") {
    const after = graph.advance(state, { type: "run.cancelled", at: AT });
    expect(after.accepted).toBe(false);
  }
  return { state, log, executeIds };
}

/** Independently of the decider's counters: no map instance has more unfinished iterations than its concurrency. */
function expectConcurrencyLimits(graph: ExecutionGraph, state: RunState): void {
  const active = new Map<string, Set<string>>();
  for (const [key, step] of Object.entries(state.steps)) {
    if (TERMINAL.has(step.status)) continue;
    // every iteration segment of the key is an unfinished iteration of that map instance
    for (let end = key.indexOf("]/"); end >= 0; end = key.indexOf("]/", end + 1)) {
      const segment = key.slice(0, end + 1);
      const bracket = segment.lastIndexOf("[");
      const mapKey = segment.slice(0, bracket);
      if (!active.has(mapKey)) active.set(mapKey, new Set());
      active.get(mapKey)!.add(segment);
    }
  }
  for (const [mapKey, iterations] of active) {
    const mapId = mapKey.slice(mapKey.lastIndexOf("/") + 1);
    const def = graph.step(mapId).def;
    if (def.type !== "map") throw new Error(`${mapKey} is not a map`);
    expect(iterations.size).toBeLessThanOrEqual(def.concurrency);
  }
}

/** A finished parallel/map instance has nothing unfinished inside it. */
function expectFinishedContainersQuiet(graph: ExecutionGraph, state: RunState): void {
  const steps = Object.values(state.steps);
  for (const container of steps) {
    if (!TERMINAL.has(container.status) || container.fanout === undefined) continue;
    const busy = steps
      .filter((s) => !TERMINAL.has(s.status) && isInside(graph, s.key, container))
      .map((s) => s.key);
    expect(busy, `inside finished ${container.key}`).toEqual([]);
  }
}

const TERMINAL = new Set<string>(TERMINAL_STEP_STATUSES);

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function timeoutDedupeId(timerId: string): string {
  const [, key, attempt] = timerId.split(":");
  return `run/${key}/${attempt}`;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- comparison

/**
 * The schedule-independent part of a final state. When a child flow fails, which of its siblings
 * finished first and which were cancelled is a race by design, so the inside of a failed container is
 * left out and only the container's own status is compared (and only whether the run has an error).
 */
function essence(graph: ExecutionGraph, state: RunState) {
  const failedContainers = Object.values(state.steps).filter(
    (s) => s.status === "failed" && s.fanout !== undefined && graph.step(s.stepId).childFlows.length > 0,
  );
  const inside = (key: string) => failedContainers.some((c) => key !== c.key && isInside(graph, key, c));
  const steps: Record<string, unknown> = {};
  for (const [key, step] of Object.entries(state.steps)) {
    if (inside(key)) continue;
    const racy = failedContainers.includes(step);
    steps[key] = racy
      ? { status: step.status }
      : { status: step.status, attempt: step.attempt, output: step.output, error: step.error?.code };
  }
  return { status: state.status, output: state.output, failed: state.error !== undefined, steps };
}

function isInside(graph: ExecutionGraph, key: string, container: StepState): boolean {
  const node = graph.step(container.stepId);
  if (node.def.type === "map") return key.startsWith(`${container.key}[`);
  const outer = container.key.slice(0, container.key.lastIndexOf("/") + 1);
  if (!key.startsWith(outer)) return false;
  const rest = key.slice(outer.length);
  const head = rest.split("/")[0]!.split("[")[0]!;
  return graph.steps.get(head)?.ancestors.has(node.id) ?? false;
}

function replay(graph: ExecutionGraph, log: RunEvent[]): RunState {
  let state = graph.start(log[0] as Extract<RunEvent, { type: "run.started" }>).state;
  for (const event of log.slice(1)) {
    const decision = graph.advance(state, event);
    expect(decision.accepted).toBe(true);
    state = decision.state;
  }
  return state;
}

// ---------------------------------------------------------------- the properties

describe("decider under duplicates, reordering and replays", () => {
  it("reaches the in-order final state, never repeats an attempt, always terminates", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapes.flow,
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { minLength: 3, maxLength: 3 }),
        async (flow, seed, flag, scheduleSeeds) => {
          const definition = plan({ steps: toSteps(flow, { next: 0 }) });
          const graph = factory({ tools: new ToolRegistry([simTool(seed)]) }).compile(definition);
          const input = { flag };

          const reference = await simulate(graph, seed, input, {});
          expect(["succeeded", "failed"]).toContain(reference.state.status);
          expect(new Set(reference.executeIds).size).toBe(reference.executeIds.length);
          expect(replay(graph, reference.log)).toEqual(reference.state);
          const expected = essence(graph, reference.state);

          for (const scheduleSeed of scheduleSeeds) {
            const run = await simulate(graph, seed, input, { random: mulberry32(scheduleSeed) });
            expect(new Set(run.executeIds).size).toBe(run.executeIds.length);
            expect(essence(graph, run.state)).toEqual(expected);
            expect(run.state.activity).toEqual(recount(run.state));
            expect(replay(graph, run.log)).toEqual(run.state);
          }

          // A cancel at a random moment: either the run had finished (then nothing changes) or it ends
          // cancelled with every step finished and nothing accepted after the cancel.
          const cancelled = await simulate(graph, seed, input, {
            random: mulberry32(scheduleSeeds[0]! ^ 0x5bd1e995),
            cancelAfter: scheduleSeeds[1]! % (reference.log.length + 2),
          });
          if (cancelled.state.status === "cancelled") {
            expect(cancelled.log.at(-1)?.type).toBe("run.cancelled");
            expect(Object.values(cancelled.state.steps).every((step) => TERMINAL.has(step.status))).toBe(
              true,
            );
            expect(cancelled.state.activity).toEqual({ busy: 0, waiting: 0 });
          } else {
            expect(essence(graph, cancelled.state)).toEqual(expected);
          }
        },
      ),
      { numRuns: 200, seed: 20260101, endOnFailure: true },
    );
  });
});

function recount(state: RunState) {
  let busy = 0;
  let waiting = 0;
  for (const step of Object.values(state.steps)) {
    if (step.status === "queued" || step.status === "retrying") busy++;
    else if (step.status === "running" && step.suspended === "timer") waiting++;
    else if (step.status === "running" && step.suspended !== "fanout") busy++;
    else if (step.status === "waiting_approval") waiting++;
  }
  return { busy, waiting };
}
