import { describe, expect, it } from "vitest";
import { retryDelay } from "../../src/graph/backoff.js";
import { StepFailure } from "../../src/graph/errors.js";
import type { RunState } from "../../src/graph/types.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { compile, Harness, recordingTool, statuses, T0 } from "./harness.js";

function flakyTools(...failures: Array<Error | "ok">) {
  let call = 0;
  const tool = recordingTool("test.flaky", async (input) => {
    const outcome = failures[call++] ?? "ok";
    if (outcome !== "ok") throw outcome;
    return { echoed: input };
  });
  return { tool, tools: new ToolRegistry([tool]) };
}

describe("decider: start and a chain of steps", () => {
  it("starts at version 1 with the first step queued as an inline execute", () => {
    const graph = compile({ steps: [{ id: "a", type: "set", values: { x: 1 } }] });
    const h = new Harness(graph);
    const decision = h.start({ n: 1 });
    expect(decision.accepted).toBe(true);
    expect(decision.state).toMatchObject({
      version: 1,
      status: "running",
      startedAt: T0,
      updatedAt: T0,
      input: { n: 1 },
    });
    expect(decision.state.steps.a).toMatchObject({ status: "queued", attempt: 1, entries: 1, queuedAt: T0 });
    expect(decision.commands).toEqual([
      {
        type: "execute",
        runId: "run-1",
        key: "a",
        stepId: "a",
        attempt: 1,
        inline: true,
        dedupeId: "run-1/a/1",
      },
    ]);
  });

  it("runs set steps in order, each seeing the previous outputs; the last output is the run's", async () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: { x: "{% input.n + 1 %}" } },
        { id: "b", type: "set", values: { y: "{% steps.a.output.x * 10 %}" } },
      ],
    });
    const h = new Harness(graph);
    h.start({ n: 1 });
    const state = await h.drain();
    expect(state.status).toBe("succeeded");
    expect(state.output).toEqual({ y: 20 });
    expect(state.version).toBe(3);
    expect(h.ofType("finish_run")).toEqual([
      { type: "finish_run", runId: "run-1", status: "succeeded", output: { y: 20 } },
    ]);
  });

  it("evaluates the plan's outputs in a synthetic $output step", async () => {
    const graph = compile({
      steps: [{ id: "a", type: "set", values: { x: 2 } }],
      outputs: { doubled: "{% steps.a.output.x * 2 %}", from: "{% run.planId %}" },
    });
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.steps.$output).toMatchObject({ status: "succeeded" });
    expect(state.output).toEqual({ doubled: 4, from: "test.plan" });
  });

  it("follows explicit next and end", async () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: {}, next: "c" },
        { id: "b", type: "set", values: { skipped: true }, end: true },
        { id: "c", type: "set", values: { last: true }, next: "b" },
      ],
    });
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(h.ofType("execute").map((c) => c.key)).toEqual(["a", "c", "b"]);
    expect(state.output).toEqual({ skipped: true });
  });

  it("never mutates the state it is given", async () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: { x: 1 } },
        { id: "b", type: "set", values: {} },
      ],
    });
    const h = new Harness(graph);
    const first = h.start().state;
    const frozen = structuredClone(first);
    deepFreeze(first);
    await h.drain();
    expect(first).toEqual(frozen);
  });
});

describe("decider: stale and duplicate events", () => {
  it("ignores duplicates, stale attempts, unknown keys and anything after the run finished", async () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: { x: 1 } },
        { id: "b", type: "set", values: {} },
      ],
    });
    const h = new Harness(graph);
    h.start();
    const event = await h.execute(h.queue.shift()!);
    const accepted = h.apply(event);
    expect(accepted.accepted).toBe(true);
    const before = h.state;
    for (const stale of [
      event,
      { ...event, attempt: 7 },
      { type: "step.started" as const, key: "a", attempt: 1, at: T0 },
      { type: "step.succeeded" as const, key: "nope", attempt: 1, output: 1, at: T0 },
      { type: "run.started" as const, runId: "run-1", plan: before.plan, input: {}, at: T0 },
      { type: "approval.granted" as const, key: "b", by: "user:x", at: T0 },
      { type: "timer.fired" as const, timerId: "wait:b:1", at: T0 },
      { type: "timer.fired" as const, timerId: "garbage", at: T0 },
    ]) {
      const decision = h.graph.advance(before, stale);
      expect(decision.accepted).toBe(false);
      expect(decision.state).toBe(before);
      expect(decision.commands).toEqual([]);
    }
    const done = await h.drain();
    expect(done.status).toBe("succeeded");
    expect(h.graph.advance(done, { type: "run.cancelled", at: T0 }).accepted).toBe(false);
  });

  it("accepts a step.succeeded that arrives before its step.started, then ignores the late start", () => {
    const graph = compile({ steps: [{ id: "a", type: "set", values: {} }] });
    const h = new Harness(graph);
    h.start();
    expect(h.apply({ type: "step.succeeded", key: "a", attempt: 1, output: 5, at: T0 }).accepted).toBe(true);
    expect(h.state.status).toBe("succeeded");
    expect(h.graph.advance(h.state, { type: "step.started", key: "a", attempt: 1, at: T0 }).accepted).toBe(
      false,
    );
  });

  it("step.started moves queued to running once", () => {
    const graph = compile({ steps: [{ id: "a", type: "set", values: {} }] });
    const h = new Harness(graph);
    h.start();
    h.now += 5;
    const started = h.apply({ type: "step.started", key: "a", attempt: 1, at: h.now });
    expect(started.state.steps.a).toMatchObject({ status: "running", startedAt: T0 + 5 });
    expect(started.state.version).toBe(2);
    expect(h.graph.advance(h.state, { type: "step.started", key: "a", attempt: 1, at: h.now }).accepted).toBe(
      false,
    );
  });
});

describe("decider: retries", () => {
  it("retries with exponential backoff and deterministic jitter, then succeeds", async () => {
    const { tool, tools } = flakyTools(new Error("down"), new Error("still down"));
    const graph = compile(
      {
        steps: [
          {
            id: "call",
            type: "tool",
            tool: "test.flaky",
            with: { a: 1 },
            retry: { max: 3, initial: "1s", jitter: 0.5 },
          },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.status).toBe("succeeded");
    expect(state.steps.call).toMatchObject({
      status: "succeeded",
      attempt: 3,
      entryAttempt: 1,
      output: { echoed: { a: 1 } },
    });
    expect(state.steps.call!.error).toBeUndefined();
    const executes = h.ofType("execute");
    expect(executes.map((c) => [c.attempt, c.inline, c.dedupeId])).toEqual([
      [1, false, "run-1/call/1"],
      [2, false, "run-1/call/2"],
      [3, false, "run-1/call/3"],
    ]);
    const [, second, third] = executes;
    // delay n = base·(1-f) + f·base·u with base = 1000·2^(n-1) and f = 0.5
    expect(second!.delayMs).toBeGreaterThanOrEqual(500);
    expect(second!.delayMs).toBeLessThanOrEqual(1000);
    expect(third!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(third!.delayMs).toBeLessThanOrEqual(2000);
    expect(tool.calls.map((c) => c.idempotencyKey)).toEqual(["run-1/call/1", "run-1/call/2", "run-1/call/3"]);
  });

  it("computes the same delays on replay and puts the retrying step in status retrying", async () => {
    const { tools } = flakyTools(new Error("down"));
    const graph = compile(
      { steps: [{ id: "call", type: "tool", tool: "test.flaky", retry: { max: 1, initial: "1s" } }] },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    const failed = {
      type: "step.failed" as const,
      key: "call",
      attempt: 1,
      error: { message: "down" },
      at: T0,
    };
    const once = h.graph.advance(h.state, failed);
    const twice = h.graph.advance(h.state, failed);
    expect(once.commands).toEqual(twice.commands);
    expect(once.state.steps.call).toMatchObject({
      status: "retrying",
      attempt: 2,
      error: { message: "down" },
    });
    expect(once.state.status).toBe("running");
  });

  it("fails for good after retry.max retries, and at once for non-retryable errors", async () => {
    const { tools } = flakyTools(new Error("a"), new Error("b"), new Error("c"));
    const graph = compile(
      { steps: [{ id: "call", type: "tool", tool: "test.flaky", retry: { max: 2, initial: 0 } }] },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.status).toBe("failed");
    expect(state.steps.call).toMatchObject({ status: "failed", attempt: 3 });
    expect(state.error?.message).toContain("c");

    const fatal = flakyTools(new StepFailure("bad input", { code: "validation", retryable: false }));
    const h2 = new Harness(
      compile(
        { steps: [{ id: "call", type: "tool", tool: "test.flaky", retry: { max: 5 } }] },
        { tools: fatal.tools },
      ),
    );
    h2.start();
    const s2 = await h2.drain();
    expect(s2.steps.call).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { code: "validation", retryable: false },
    });
    expect(fatal.tool.calls).toHaveLength(1);
  });

  it("a step without retry policy does not retry", async () => {
    const { tools } = flakyTools(new Error("x"));
    const h = new Harness(compile({ steps: [{ id: "call", type: "tool", tool: "test.flaky" }] }, { tools }));
    h.start();
    expect((await h.drain()).steps.call).toMatchObject({ status: "failed", attempt: 1 });
  });
});

describe("backoff", () => {
  const policy = {
    max: 5,
    backoff: "exponential" as const,
    initial: 1000,
    maxDelay: 5000,
    jitter: false as const,
  };
  it("doubles from initial, capped at maxDelay; fixed stays at initial", () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(policy, n, "s"))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3].map((n) => retryDelay({ ...policy, backoff: "fixed" }, n, "s"))).toEqual([
      1000, 1000, 1000,
    ]);
  });
  it("full jitter stays within [0, delay] and depends only on the seed", () => {
    const seeds = Array.from({ length: 200 }, (_, i) => `run/k/${i}`);
    const delays = seeds.map((s) => retryDelay({ ...policy, jitter: true }, 3, s));
    expect(delays.every((d) => d >= 0 && d <= 4000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(seeds.map((s) => retryDelay({ ...policy, jitter: true }, 3, s))).toEqual(delays);
  });
});

describe("decider: timeouts", () => {
  it("schedules a timeout timer for non-pure steps and treats its firing as a retryable failure", async () => {
    const tools = new ToolRegistry([recordingTool("test.slow", async () => ({ ok: true }))]);
    const graph = compile(
      {
        steps: [
          { id: "slow", type: "tool", tool: "test.slow", timeout: "30s", retry: { max: 1, initial: 0 } },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    expect(h.ofType("schedule_timer")).toEqual([
      { type: "schedule_timer", runId: "run-1", timerId: "timeout:slow:1", at: T0 + 30_000 },
    ]);
    h.queue.length = 0; // the worker hangs
    h.now += 30_000;
    const fired = h.fire("timeout:slow:1");
    expect(fired.accepted).toBe(true);
    expect(fired.state.steps.slow).toMatchObject({
      status: "retrying",
      attempt: 2,
      error: { code: "timeout" },
    });
    expect(h.timers.get("timeout:slow:2")).toBe(h.now + 30_000);
    // the old attempt's timer and its late result are stale now
    expect(
      h.graph.advance(h.state, { type: "timer.fired", timerId: "timeout:slow:1", at: h.now }).accepted,
    ).toBe(false);
    expect(
      h.graph.advance(h.state, { type: "step.succeeded", key: "slow", attempt: 1, output: 1, at: h.now })
        .accepted,
    ).toBe(false);
    const state = await h.drain();
    expect(state.steps.slow).toMatchObject({ status: "succeeded", attempt: 2 });
    expect(h.fire("timeout:slow:2").accepted).toBe(false);
  });

  it("a step.timed_out from the worker fails the attempt like the timer", () => {
    const tools = new ToolRegistry([recordingTool("test.slow", async () => 1)]);
    const h = new Harness(
      compile({ steps: [{ id: "slow", type: "tool", tool: "test.slow", timeout: 1000 }] }, { tools }),
    );
    h.start();
    const decision = h.apply({ type: "step.timed_out", key: "slow", attempt: 1, at: T0 + 1000 });
    expect(decision.state.status).toBe("failed");
    expect(decision.state.error).toMatchObject({ code: "timeout" });
  });

  it("pure steps get no timeout timer", () => {
    const h = new Harness(compile({ steps: [{ id: "a", type: "set", values: {}, timeout: 10 }] }));
    h.start();
    expect(h.ofType("schedule_timer")).toEqual([]);
  });
});

describe("decider: if, onError, dead letters, loops", () => {
  it("skips a step whose if is false and carries on", async () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: { x: 1 }, if: "input.go" },
        { id: "b", type: "set", values: { a: "{% steps.a.status %}" } },
      ],
    });
    const h = new Harness(graph);
    h.start({ go: false });
    const state = await h.drain();
    expect(state.steps.a).toMatchObject({ status: "skipped" });
    expect(state.output).toEqual({ a: "skipped" });
  });

  it("goes to onError with the error visible as steps.<id>.error", async () => {
    const { tools } = flakyTools(new Error("boom"));
    const graph = compile(
      {
        steps: [
          { id: "call", type: "tool", tool: "test.flaky", onError: "recover" },
          { id: "fine", type: "set", values: { never: true }, end: true },
          { id: "recover", type: "set", values: { saw: "{% steps.call.error.message %}" } },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.status).toBe("succeeded");
    expect(state.steps.fine).toBeUndefined();
    expect(state.output).toEqual({ saw: 'tool "test.flaky" failed: boom' });
  });

  it("a dead-lettered step is not retried and fails the run", () => {
    const { tools } = flakyTools();
    const h = new Harness(
      compile({ steps: [{ id: "call", type: "tool", tool: "test.flaky", retry: { max: 3 } }] }, { tools }),
    );
    h.start();
    const d = h.apply({
      type: "step.dead_lettered",
      key: "call",
      attempt: 1,
      reason: "max deliveries",
      at: T0,
    });
    expect(d.state.steps.call).toMatchObject({ status: "dead_lettered", error: { code: "dead_lettered" } });
    expect(d.state.status).toBe("failed");
    expect(d.commands).toEqual([expect.objectContaining({ type: "finish_run", status: "failed" })]);
  });

  it("re-enters a loop step with increasing attempts and fails it with loop_limit past loop.max", async () => {
    const graph = compile({
      steps: [
        {
          id: "count",
          type: "set",
          values: { n: "{% $exists(steps.count.output) ? steps.count.output.n + 1 : 1 %}" },
          loop: { max: 2 },
        },
        { id: "again", type: "branch", cases: [{ when: "true", next: "count" }] },
      ],
    });
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(
      h
        .ofType("execute")
        .filter((c) => c.key === "count")
        .map((c) => c.dedupeId),
    ).toEqual(["run-1/count/1", "run-1/count/2", "run-1/count/3"]);
    expect(state.steps.count).toMatchObject({ status: "failed", entries: 4, error: { code: "loop_limit" } });
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("loop_limit");
  });

  it("a loop limit routed by onError back to the same step fails the flow instead of spinning", async () => {
    const graph = compile({
      steps: [
        { id: "count", type: "set", values: {}, loop: { max: 1 }, onError: "count" },
        { id: "again", type: "branch", cases: [{ when: "true", next: "count" }] },
      ],
    });
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("loop_limit");
  });
});

describe("decider: run status and cancel", () => {
  it("cancel marks every unfinished step cancelled and finishes the run", () => {
    const tools = new ToolRegistry([recordingTool("test.t", async () => 1)]);
    const graph = compile(
      {
        steps: [
          {
            id: "p",
            type: "parallel",
            branches: [
              { steps: [{ id: "x", type: "tool", tool: "test.t" }] },
              { steps: [{ id: "y", type: "approval" }] },
            ],
          },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    h.apply({
      type: "step.suspended",
      key: "p",
      attempt: 1,
      suspension: { kind: "fanout", count: 2 },
      at: T0,
    });
    h.apply({
      type: "step.suspended",
      key: "y",
      attempt: 1,
      suspension: { kind: "approval", request: { approvers: [] } },
      at: T0,
    });
    const d = h.apply({ type: "run.cancelled", by: "user:ann", reason: "test", at: T0 + 1 });
    expect(statuses(d.state)).toEqual({ p: "cancelled", x: "cancelled", y: "cancelled" });
    expect(d.state).toMatchObject({ status: "cancelled", finishedAt: T0 + 1, error: { code: "cancelled" } });
    expect(d.commands).toEqual([
      expect.objectContaining({
        type: "finish_run",
        status: "cancelled",
        error: expect.objectContaining({ message: "run cancelled by user:ann: test" }),
      }),
    ]);
    expect(h.apply({ type: "step.succeeded", key: "x", attempt: 1, output: 1, at: T0 }).accepted).toBe(false);
  });

  it("keeps activity counters equal to a recount after every event", async () => {
    const graph = compile({
      steps: [
        {
          id: "m",
          type: "map",
          items: "[1,2,3]",
          concurrency: 2,
          steps: [{ id: "w", type: "wait", duration: "1s" }],
        },
      ],
    });
    const h = new Harness(graph);
    h.start();
    await h.drain();
    expect(h.state.status).toBe("waiting");
    for (const id of [...h.timers.keys()]) {
      h.fire(id);
      await h.drain();
    }
    for (const id of [...h.timers.keys()]) h.fire(id);
    await h.drain();
    expect(h.state.status).toBe("succeeded");
    for (const d of h.decisions) expect(d.state.activity).toEqual(recount(d.state));
  });

  it("reports finish_run with the parent link of a child run", async () => {
    const graph = compile({ steps: [{ id: "a", type: "set", values: { v: 1 } }] });
    const parent = { runId: "parent", key: "sub", attempt: 2 };
    const decision = graph.start({
      type: "run.started",
      runId: "c",
      plan: { id: "test.plan", version: 1, workflow: "automation" },
      input: {},
      parent,
      at: T0,
    });
    const state = decision.state;
    const done = graph.advance(state, { type: "step.succeeded", key: "a", attempt: 1, output: 7, at: T0 });
    expect(done.commands).toEqual([
      { type: "finish_run", runId: "c", status: "succeeded", output: 7, parent },
    ]);
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

function deepFreeze(value: unknown): void {
  if (value && typeof value === "object") {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
}
