import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  createRunner,
  KvPlanRepository,
  ManualClock,
  type PublishOptions,
  runKeys,
  type Tool,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { StalledRunSweeper } from "@aat/functions-node";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { capturingLogger } from "./support.js";

const TWO_STEPS = `
id: test.two
workflow: automation
title: Two queued tool steps
steps:
  - { id: first, type: tool, tool: test.echo }
  - { id: second, type: tool, tool: test.echo }
`;

const STALLED_AFTER_MS = 60_000;

/** A runner on memory stores whose queue refuses publishes while `queueDown` is set. */
async function setup() {
  const clock = new ManualClock();
  const kv = new MemoryKeyValue({ clock });
  const queue = new MemoryQueue<WorkMessage>({ name: `steps-${crypto.randomUUID()}`, clock });
  const state = { queueDown: false };
  const publish = queue.publish.bind(queue);
  queue.publish = (body: WorkMessage, options?: PublishOptions) =>
    state.queueDown ? Promise.reject(new Error("publish failed: the queue is down")) : publish(body, options);
  const echo: Tool<Record<string, never>, { ok: true }> = {
    name: "test.echo",
    description: "Answers ok",
    input: z.object({}),
    output: z.object({ ok: z.literal(true) }),
    run: async () => ({ ok: true }),
  };
  const tools = new ToolRegistry([echo]);
  const plans = new KvPlanRepository(kv, { tools, clock });
  await plans.publish(TWO_STEPS);
  const runner = createRunner({ kv, queue, plans, services: { tools }, clock });
  const errors: unknown[] = [];
  const worker = new Worker(runner, queue, { onError: (error) => errors.push(error) });
  const { logger, lines } = capturingLogger();
  const sweeper = (intervalMs = 30_000) =>
    new StalledRunSweeper({ kv, runner, clock, logger, intervalMs, stalledAfterMs: STALLED_AFTER_MS });
  return { clock, kv, queue, state, runner, worker, errors, sweeper, lines };
}

describe("StalledRunSweeper", () => {
  it("re-publishes the next step of a run whose publish failed after its event was stored", async () => {
    const { clock, state, runner, worker, errors, sweeper, lines } = await setup();
    const { runId } = await runner.start({ planId: "test.two" });

    // The first step runs and its result is stored; publishing the second step fails.
    state.queueDown = true;
    await worker.drain(1);
    expect(errors.map(String)).toEqual(["Error: publish failed: the queue is down"]);
    state.queueDown = false;
    // The first step's message comes back, finds its step completed, and is acked: nothing re-publishes.
    clock.advance(31_000);
    await worker.drain();
    expect((await runner.load(runId))?.steps.second?.status).toBe("queued");
    expect(await worker.drain()).toBe(0);

    clock.advance(STALLED_AFTER_MS);
    expect(await sweeper().sweep()).toBe(1);
    await worker.drain();
    expect((await runner.load(runId))?.status).toBe("succeeded");
    expect(lines.some((line) => String(line.msg).startsWith("re-issued the pending work of 1 run(s)"))).toBe(
      true,
    );
  });

  it("leaves recently updated runs alone, and gives a run it reconciled time to move on", async () => {
    const { clock, kv, queue, runner, sweeper } = await setup();
    const { runId } = await runner.start({ planId: "test.two" });
    // A run has no snapshot until its first change after the start: its first event dates it.
    expect(await kv.get(runKeys.snapshot(runId))).toBeUndefined();
    expect(await sweeper().sweep()).toBe(0);
    // The first step's message is still waiting: by age the run looks stalled and is reconciled, but the
    // re-publish carries the same dedupe id, so the queue holds one message for the step, not two.
    clock.advance(STALLED_AFTER_MS + 1);
    const once = sweeper(1000);
    expect(await once.sweep()).toBe(1);
    clock.advance(1000);
    expect(await once.sweep()).toBe(0);
    expect(await queue.receive({ maxMessages: 10 })).toHaveLength(1);
  });

  it("reconciles a run whose first publish failed, with no snapshot, once it is old enough", async () => {
    const { clock, kv, state, runner, worker, sweeper } = await setup();
    state.queueDown = true;
    const runId = "00000000-0000-4000-8000-00000000beef";
    await expect(runner.start({ planId: "test.two", runId })).rejects.toThrow(/the queue is down/);
    state.queueDown = false;
    expect(await kv.get(runKeys.snapshot(runId))).toBeUndefined();
    expect(await sweeper().sweep()).toBe(0);
    clock.advance(STALLED_AFTER_MS + 1);
    expect(await sweeper().sweep()).toBe(1);
    await worker.drain();
    expect((await runner.load(runId))?.status).toBe("succeeded");
  });

  it("sweeps on one replica per interval", async () => {
    const { clock, runner, sweeper } = await setup();
    await runner.start({ planId: "test.two" });
    clock.advance(STALLED_AFTER_MS + 1);
    const [first, second] = [sweeper(), sweeper()];
    const results = await Promise.all([first.sweep(), second.sweep()]);
    expect(results.sort()).toEqual([0, 1]);
  });

  it("finishes again a run that ended but is still marked active (what follows its end was interrupted)", async () => {
    const { clock, kv, runner, worker, sweeper } = await setup();
    const { runId } = await runner.start({ planId: "test.two" });
    await worker.drain();
    expect((await runner.load(runId))?.status).toBe("succeeded");
    // A crash between the run's last event and the end of its finish leaves the active marker.
    await kv.set(`run-active/${runId}`, { runId });
    expect(await sweeper().sweep()).toBe(0);
    clock.advance(STALLED_AFTER_MS + 1);
    expect(await sweeper().sweep()).toBe(1);
    expect(await kv.get(`run-active/${runId}`)).toBeUndefined();
  });
});
