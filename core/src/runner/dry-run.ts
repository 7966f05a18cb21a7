import { z } from "zod";
import { formatIssues, StepFailure } from "../graph/errors.js";
import { PlanFactory } from "../graph/factory.js";
import { registerBuiltinHandlers } from "../graph/handlers/index.js";
import { timerIdOf } from "../graph/keys.js";
import { type NodeHandler, type RunState, TERMINAL_RUN_STATUSES } from "../graph/types.js";
import type { PlanDefinition, StepDefinition } from "../plan/schema.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import type { Queue } from "../ports/queue.js";
import { createRunner } from "./create-runner.js";
import type { PlanSource } from "./graph-cache.js";
import type { WorkMessage } from "./messages.js";
import type { LoggedEvent } from "./run-store.js";
import { Worker } from "./worker.js";

/**
 * Dry runs: a plan run on a throw-away engine (fresh KeyValue and Queue) with every tool and agent
 * step replaced by a stub output, so an author sees the path a playbook takes before publishing it.
 *
 * Stubs are looked up by step instance key (`enrich[2]/lookup`), then step id, then (tool steps) tool
 * name. A stub `{ "$fail": "message" }` makes the step fail instead, to try `onError` paths. A tool or
 * agent step without a stub fails with a message naming the stub to add. Wait steps are fast-forwarded;
 * approval steps wait (the result says so); retry backoffs are not skipped.
 */

export interface DryRunOptions {
  definition: PlanDefinition;
  /** Version the run is pinned to (defaults to the definition's). */
  version?: number;
  input: unknown;
  stubs: Record<string, unknown>;
  /** Fresh stores, discarded (closed) afterwards. */
  scratch: { kv: KeyValue; queue: Queue<WorkMessage> };
  /** Where `plan` steps find their sub-plans (read only); the dry-run plan itself is served from memory. */
  plans?: PlanSource;
  clock?: Clock;
  /** Upper bound on queue messages handled (default 10,000), so a runaway loop cannot hang the caller. */
  maxMessages?: number;
}

export type DryRunWait = { key: string; reason: "approval" | "timer" | "work"; until?: number };

export interface DryRunResult {
  run: RunState;
  events: LoggedEvent[];
  /** The run reached succeeded, failed or cancelled. */
  complete: boolean;
  waitingFor: DryRunWait[];
  /** Step keys (of this run and its sub-plan runs) that returned a stub. */
  stubbed: string[];
  notes: string[];
}

const DEFAULT_MAX_MESSAGES = 10_000;
const FAIL_KEY = "$fail";

export async function dryRun(options: DryRunOptions): Promise<DryRunResult> {
  const { definition, scratch } = options;
  const version = options.version ?? definition.version;
  const clock = options.clock ?? systemClock;
  const rootRunId = `dry-${crypto.randomUUID()}`;
  const label = (runId: string, key: string) => (runId === rootRunId ? key : `${runId}:${key}`);
  const stubbed = new Set<string>();
  const notes: string[] = [];
  const factory = registerBuiltinHandlers(new PlanFactory())
    .registerHandler(
      "tool",
      stubToolHandler(options.stubs, (runId, key) => stubbed.add(label(runId, key))),
    )
    .registerHandler(
      "agent",
      stubAgentHandler(options.stubs, (runId, key) => stubbed.add(label(runId, key))),
    );
  const plans: PlanSource = {
    get: async (id, wanted) => {
      if (id === definition.id && (wanted === undefined || wanted === version))
        return { definition, version };
      return options.plans?.get(id, wanted);
    },
  };
  const runner = createRunner({
    kv: scratch.kv,
    queue: scratch.queue,
    plans,
    factory,
    clock,
  });
  const worker = new Worker(runner, scratch.queue, { concurrency: 8 });
  try {
    const started = await runner.start({
      planId: definition.id,
      version,
      input: options.input,
      runId: rootRunId,
    });
    const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
    let handled = 0;
    const fastForwarded: string[] = [];
    for (;;) {
      handled += await worker.drain(Math.ceil((maxMessages - handled) / 8));
      if (handled >= maxMessages) {
        notes.push(
          `stopped after ${handled} queue messages (the dry-run limit); the plan may loop without end`,
        );
        break;
      }
      const fired = (await fireWaitTimers(runner, clock)).map((t) => label(t.runId, t.key));
      if (fired.length === 0) break;
      fastForwarded.push(...fired);
    }
    if (fastForwarded.length > 0) {
      notes.push(`wait steps were fast-forwarded (their timers fired at once): ${fastForwarded.join(", ")}`);
    }
    const run = (await runner.load(started.runId)) ?? started.state;
    const events = await readWholeLog(runner.store, run.runId);
    const complete = TERMINAL_RUN_STATUSES.includes(run.status);
    const waitingFor = complete ? [] : await pendingSteps(runner, label);
    for (const wait of waitingFor) {
      if (wait.reason === "approval") {
        notes.push(
          `step "${wait.key}" waits for an approval; a dry run does not decide approvals, so the run stops here (status ${run.status})`,
        );
      } else if (wait.reason === "work") {
        notes.push(
          `step "${wait.key}" has work scheduled for later (a retry backoff); a dry run does not wait for it`,
        );
      }
    }
    return { run, events, complete, waitingFor, stubbed: [...stubbed].sort(), notes };
  } finally {
    await Promise.allSettled([scratch.queue.close(), scratch.kv.close()]);
  }
}

type ToolStep = Extract<StepDefinition, { type: "tool" }>;
type AgentStep = Extract<StepDefinition, { type: "agent" }>;

type StubUsed = (runId: string, key: string) => void;

function stubToolHandler(stubs: Record<string, unknown>, used: StubUsed): NodeHandler<ToolStep> {
  return {
    pure: false,
    async execute(step, ctx) {
      // Evaluate `with` as the real handler would, so a broken template fails the dry run too.
      if (step.with !== undefined) await ctx.evaluate("with");
      const stub = findStub(stubs, [ctx.key, step.id, step.tool]);
      if (!stub.found) {
        throw new StepFailure(
          `no stub for step "${step.id}" (tool "${step.tool}"): a dry run does not call tools; add stubs.${step.id} or stubs["${step.tool}"] with the output the tool should return`,
          { code: "no_stub", retryable: false },
        );
      }
      const output = stubOutput(stub.value, step.id);
      used(ctx.runId, ctx.key);
      return { kind: "done", output };
    },
  };
}

function stubAgentHandler(stubs: Record<string, unknown>, used: StubUsed): NodeHandler<AgentStep> {
  return {
    pure: false,
    async execute(step, ctx) {
      const stub = findStub(stubs, [ctx.key, step.id]);
      if (!stub.found) {
        throw new StepFailure(
          `no stub for agent step "${step.id}": a dry run does not call models; add stubs.${step.id} with the output the agent should return`,
          { code: "no_stub", retryable: false },
        );
      }
      const output = stubOutput(stub.value, step.id);
      const schema = outputSchemaOf(step, ctx.plan);
      if (schema) {
        const checked = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(output);
        if (!checked.success) {
          throw new StepFailure(
            `the stub for agent step "${step.id}" does not match the step's output schema: ${formatIssues(checked.error.issues)}`,
            { code: "agent_output_invalid", retryable: false },
          );
        }
      }
      used(ctx.runId, ctx.key);
      return { kind: "done", output };
    },
  };
}

function findStub(
  stubs: Record<string, unknown>,
  names: string[],
): { found: true; value: unknown } | { found: false } {
  for (const name of names) {
    if (Object.hasOwn(stubs, name)) return { found: true, value: stubs[name] };
  }
  return { found: false };
}

/** A stub is the output itself, or `{ "$fail": "message" }` to make the step fail for good. */
function stubOutput(value: unknown, stepId: string): unknown {
  if (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.hasOwn(value, FAIL_KEY)
  ) {
    const message = (value as Record<string, unknown>)[FAIL_KEY];
    throw new StepFailure(typeof message === "string" ? message : `stubbed failure of step "${stepId}"`, {
      code: "stub_failure",
      retryable: false,
    });
  }
  return value;
}

function outputSchemaOf(step: AgentStep, plan: PlanDefinition): Record<string, unknown> | undefined {
  if (step.output === undefined) return undefined;
  return typeof step.output === "string" ? plan.schemas?.[step.output] : step.output;
}

type ScratchRunner = ReturnType<typeof createRunner>;

/** States of the runs still going on the scratch engine: the dry run and its sub-plan runs. */
async function activeRuns(runner: ScratchRunner): Promise<RunState[]> {
  const runIds: string[] = [];
  for await (const runId of runner.store.activeRunIds()) runIds.push(runId);
  const states = await Promise.all(runIds.map((runId) => runner.load(runId)));
  return states.filter((state): state is RunState => state !== undefined);
}

/** Fire the timer of every waiting `wait` step, as if its time had come. */
async function fireWaitTimers(
  runner: ScratchRunner,
  clock: Clock,
): Promise<Array<{ runId: string; key: string }>> {
  const fired: Array<{ runId: string; key: string }> = [];
  for (const state of await activeRuns(runner)) {
    for (const step of Object.values(state.steps)) {
      if (step.status !== "running" || step.suspended !== "timer") continue;
      await runner.deliver(state.runId, {
        type: "timer.fired",
        timerId: timerIdOf("wait", step.key, step.attempt),
        at: clock.now(),
      });
      fired.push({ runId: state.runId, key: step.key });
    }
  }
  return fired;
}

async function pendingSteps(
  runner: ScratchRunner,
  label: (runId: string, key: string) => string,
): Promise<DryRunWait[]> {
  const out: DryRunWait[] = [];
  for (const state of await activeRuns(runner)) {
    for (const step of Object.values(state.steps)) {
      const key = label(state.runId, step.key);
      if (step.status === "waiting_approval") out.push({ key, reason: "approval" });
      else if (step.suspended === "timer")
        out.push({ key, reason: "timer", ...(step.waitUntil ? { until: step.waitUntil } : {}) });
      else if (step.status === "queued" || step.status === "retrying") out.push({ key, reason: "work" });
    }
  }
  return out;
}

async function readWholeLog(store: ScratchRunner["store"], runId: string): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for (;;) {
    const page = await store.listLog(runId, events.length, 200);
    events.push(...page);
    if (page.length < 200) return events;
  }
}
