import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  createRunner,
  KvPlanRepository,
  type RunEvent,
  type RunState,
  type Tool,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const PLAN = `
id: test.finish
workflow: automation
title: A queued tool step, then a chain of inline steps that ends the run
steps:
  - id: work
    type: tool
    tool: test.echo
    with: { label: "{% input.name %}" }
  - id: a
    type: set
    values: { x: 1 }
  - id: b
    type: set
    values: { y: 2 }
  - id: c
    type: set
    values: { label: "{% steps.work.output.label %}" }
`;

async function engine(onRunFinished?: (state: RunState) => Promise<void>) {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({ name: `run-finished-${crypto.randomUUID()}` });
  const echo: Tool<{ label: string }, { label: string }> = {
    name: "test.echo",
    description: "Echoes its label",
    input: z.object({ label: z.string() }),
    output: z.object({ label: z.string() }),
    async run(input) {
      return input;
    },
  };
  const tools = new ToolRegistry([echo]);
  const plans = new KvPlanRepository(kv, { tools });
  await plans.publish(PLAN);
  const finished: RunState[] = [];
  const events: RunEvent[] = [];
  const runner = createRunner({
    kv,
    queue,
    plans,
    services: { tools },
    onEvent: (_runId, _seq, event) => events.push(event),
    onRunFinished: async (state) => {
      finished.push(state);
      await onRunFinished?.(state);
    },
  });
  return { runner, worker: new Worker(runner, queue, { concurrency: 2 }), finished, events, kv };
}

describe("Runner onRunFinished", () => {
  it("is called once when a run ends, though several step events are appended in the pass that ends it", async () => {
    const { runner, worker, finished, events } = await engine();
    const { runId } = await runner.start({ planId: "test.finish", input: { name: "n" } });
    expect(finished).toHaveLength(0);
    await worker.drain();
    expect(finished.map((s) => [s.runId, s.status])).toEqual([[runId, "succeeded"]]);
    expect(finished[0]?.output).toEqual({ label: "n" });
    // What used to be mistaken for the end: every step.succeeded after the tool's finds the run done.
    expect(events.filter((e) => e.type === "step.succeeded").length).toBeGreaterThanOrEqual(4);
    // Reconciling a finished run (recovery at start) does not report it again.
    await runner.reconcile(runId);
    expect(finished).toHaveLength(1);
  });

  it("is called once for a cancelled run", async () => {
    const { runner, finished } = await engine();
    const { runId } = await runner.start({ planId: "test.finish", input: { name: "n" } });
    await runner.cancel(runId, "user:alice", "not needed");
    await runner.cancel(runId, "user:alice", "again").catch(() => undefined);
    expect(finished.map((s) => [s.runId, s.status])).toEqual([[runId, "cancelled"]]);
  });

  it("is called again by a reconcile when it failed, because the run stays active until it settles", async () => {
    let failures = 1;
    const { runner, worker, finished, kv } = await engine(async () => {
      if (failures-- > 0) throw new Error("the alert store is down");
    });
    const { runId } = await runner.start({ planId: "test.finish", input: { name: "n" } });
    await worker.drain();
    expect(finished.map((s) => s.status)).toEqual(["succeeded"]);
    // The failed hook left the run active: start-up and the stalled-run sweep reconcile it.
    expect(await kv.get(`run-active/${runId}`)).toBeDefined();
    await runner.reconcile(runId);
    expect(finished.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
    expect(await kv.get(`run-active/${runId}`)).toBeUndefined();
    // Settled now: a further reconcile is a no-op.
    await runner.reconcile(runId);
    expect(finished).toHaveLength(2);
  });
});
