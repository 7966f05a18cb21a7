import { ManualClock, type Tool } from "@aat/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { makeEngine } from "./harness.js";

const PLAN = `
id: test.long
workflow: automation
title: One long step without a timeout
steps:
  - id: slow
    type: tool
    tool: test.slow
    with: {}
`;

/** A tool that blocks until the test lets it go, counting its calls. */
function slowTool() {
  const calls: string[] = [];
  const gates: Array<() => void> = [];
  const tool: Tool<Record<string, never>, { done: boolean }> = {
    name: "test.slow",
    description: "Waits for the test",
    input: z.object({}),
    output: z.object({ done: z.boolean() }),
    async run(_input, ctx) {
      calls.push(ctx.idempotencyKey);
      await new Promise<void>((resolve) => gates.push(resolve));
      return { done: true };
    },
  };
  const releaseAll = () => {
    for (const open of gates.splice(0)) open();
  };
  return { tool, calls, releaseAll };
}

/** Default claim lease for a step without a timeout: 30 s lease + 30 s grace. */
const CLAIM_LEASE_MS = 60_000;

async function setUp() {
  const clock = new ManualClock();
  const slow = slowTool();
  const engine = await makeEngine([PLAN], { clock, tools: [slow.tool] });
  const { state } = await engine.runner.start({ planId: "test.long" });
  const [message] = await engine.queue.receive({ maxMessages: 1 });
  return { clock, slow, ...engine, runId: state.runId, message: message! };
}

/** Lets the running handler reach the tool call. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("Runner step claims and worker heartbeats", () => {
  it("a live long step keeps its claim through heartbeats: a second delivery finds it in progress", async () => {
    const { clock, slow, runner, queue, message, runId } = await setUp();
    const first = runner.handle(message);
    await settle();
    expect(slow.calls).toHaveLength(1);
    // Three lease lengths pass; the holder's heartbeats renew the claim every half lease.
    for (let beat = 0; beat < 6; beat++) {
      clock.advance(CLAIM_LEASE_MS / 2);
      expect(await runner.heartbeat(message)).toBe(true);
    }
    const [again] = await queue.receive({ maxMessages: 1 });
    expect(again?.deliveryCount).toBe(2);
    expect(await runner.handle(again!)).toBe("in_progress");
    expect(slow.calls).toHaveLength(1);

    slow.releaseAll();
    expect(await first).toBe("executed");
    expect((await runner.load(runId))?.status).toBe("succeeded");
    expect(await runner.heartbeat(message)).toBe(false);
  });

  it("a step whose worker died without a timeout is taken over one claim lease later", async () => {
    const { clock, slow, runner, queue, message, runId } = await setUp();
    void runner.handle(message); // the worker that "dies": it never heartbeats and never finishes
    await settle();
    // The queue lease (60 s here) and the claim lease (60 s) both lapse: the next delivery takes over.
    clock.advance(CLAIM_LEASE_MS + 1);
    const [later] = await queue.receive({ maxMessages: 1 });
    expect(later?.deliveryCount).toBe(2);
    const takeover = runner.handle(later!);
    await settle();
    expect(slow.calls).toHaveLength(2);
    slow.releaseAll();
    expect(await takeover).toBe("executed");
    expect((await runner.load(runId))?.status).toBe("succeeded");
  });
});
