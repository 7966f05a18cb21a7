import type { Tool } from "@aat/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { makeEngine } from "./harness.js";

const PLAN = `
id: test.poison
workflow: automation
title: A step the runner cannot complete until it is fixed
steps:
  - id: fragile
    type: tool
    tool: test.fragile
    with: {}
  - id: after
    type: tool
    tool: test.count
    with: { label: after }
`;

/** Returns a BigInt (which no store can keep, so the runner's own machinery fails) until fixed. */
function fragileTool() {
  const state = { broken: true, calls: 0 };
  const tool: Tool<Record<string, never>, { value: unknown }> = {
    name: "test.fragile",
    description: "Broken until fixed",
    input: z.object({}),
    output: z.object({ value: z.unknown() }),
    async run() {
      state.calls++;
      return { value: state.broken ? 10n : 10 };
    },
  };
  return { tool, state };
}

async function deadLettered() {
  const fragile = fragileTool();
  const engine = await makeEngine([PLAN], { tools: [fragile.tool], maxDeliveries: 2 });
  const { state } = await engine.runner.start({ planId: "test.poison" });
  await engine.worker.drain();
  await engine.queue.receive({ maxMessages: 10, waitMs: 0 }); // nothing else pending
  return { ...engine, fragile, runId: state.runId };
}

/** Delivers again whatever was nacked with a delay, until the queue is empty. */
async function drainAll(engine: Awaited<ReturnType<typeof deadLettered>>) {
  for (let round = 0; round < 20; round++) {
    if ((await engine.worker.drain()) === 0) {
      const next = await engine.queue.receive({ maxMessages: 10, waitMs: 3_000 });
      if (next.length === 0) return;
      for (const message of next) await engine.runner.handle(message);
    }
  }
}

describe("Redriving a step the runner dead-lettered", () => {
  it("reopens the failed run with a fresh attempt of the step, which then finishes normally", async () => {
    const engine = await deadLettered();
    await drainAll(engine);
    const failed = await engine.runner.load(engine.runId);
    expect(failed?.status).toBe("failed");
    expect(failed?.steps.fragile).toMatchObject({ status: "dead_lettered", attempt: 1 });
    expect(failed?.error?.code).toBe("dead_lettered");

    engine.fragile.state.broken = false;
    const decision = await engine.runner.deliver(engine.runId, {
      type: "step.redriven",
      key: "fragile",
      attempt: 1,
      at: Date.now(),
      by: "key:ops",
    });
    expect(decision.accepted).toBe(true);
    expect(decision.state.status).toBe("running");
    expect(decision.state.steps.fragile).toMatchObject({ status: "queued", attempt: 2 });
    expect(decision.state.error).toBeUndefined();

    await drainAll(engine);
    const done = await engine.runner.load(engine.runId);
    expect(done?.status).toBe("succeeded");
    expect(done?.steps.fragile).toMatchObject({ status: "succeeded", attempt: 2, output: { value: 10 } });
    expect(done?.steps.after?.status).toBe("succeeded");
    // Replaying the stored log gives the same state (the decider is deterministic on step.redriven).
    expect(await engine.runner.load(engine.runId)).toEqual(done);

    // A repeated redrive changes nothing.
    const again = await engine.runner.deliver(engine.runId, {
      type: "step.redriven",
      key: "fragile",
      attempt: 1,
      at: Date.now(),
    });
    expect(again.accepted).toBe(false);
  });
});
