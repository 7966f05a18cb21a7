import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/graph/types.js";
import { createRunner } from "../../src/runner/create-runner.js";
import type { WorkMessage } from "../../src/runner/messages.js";
import { compile, plan, T0 } from "../graph/harness.js";

const TRACE = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };

describe("a run's trace context", () => {
  it("is kept from run.started through every later event, also when the decider reuses the state", () => {
    const graph = compile({
      steps: [
        { id: "a", type: "set", values: { n: 1 } },
        { id: "b", type: "set", values: { n: 2 } },
      ],
    });
    const started: RunEvent = {
      type: "run.started",
      at: T0,
      runId: "r1",
      plan: { id: "test.plan", version: 1, workflow: "automation" },
      input: {},
      trace: TRACE,
    };
    let state = graph.start(started).state;
    expect(state.trace).toEqual(TRACE);
    state = graph.advance(state, {
      type: "step.succeeded",
      key: "a",
      attempt: 1,
      at: T0 + 1,
      output: {},
    }).state;
    expect(state.trace).toEqual(TRACE);
    const reused = graph.advance(
      state,
      { type: "step.succeeded", key: "b", attempt: 1, at: T0 + 2, output: {} },
      { reuseState: true },
    );
    expect(reused.state.status).toBe("succeeded");
    expect(reused.state.trace).toEqual(TRACE);
  });

  it("is absent, and queue messages carry no trace attributes, while no tracer provider is registered", async () => {
    const kv = new MemoryKeyValue();
    const queue = new MemoryQueue<WorkMessage>({ name: "untraced" });
    const definition = plan({
      steps: [
        { id: "a", type: "set", values: { n: 1 } },
        { id: "pause", type: "wait", duration: "10ms" },
      ],
    });
    const runner = createRunner({
      kv,
      queue,
      plans: { get: async () => ({ definition, version: 1 }) },
    });
    const { state } = await runner.start({ planId: "test.plan" });
    expect(state.trace).toBeUndefined();
    const events = await runner.store.readLog(state.runId, 1);
    expect(events[0]).not.toHaveProperty("trace");
    expect(await queue.depth()).toBe(1);
    const [timer] = await queue.receive({ maxMessages: 1, waitMs: 5000 });
    expect(timer!.body).toMatchObject({ kind: "timer" });
    expect(timer!.attributes).toEqual({});
  });
});
