import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  createRunner,
  KvPlanRepository,
  ManualClock,
  PlanLoadFailure,
  type Runner,
  runKeys,
  Scheduler,
  scheduledRunId,
  scheduleKeys,
  type WorkMessage,
} from "@aat/core";
import { describe, expect, it } from "vitest";

const at = (iso: string) => Date.parse(iso);

function hourlyPlan(cron = "0 * * * *", extra = ""): string {
  return `
id: ops.hourly
workflow: automation
title: Hourly note
inputs:
  type: object
  properties: { who: { type: string } }
triggers:
  - type: manual
  - type: schedule
    cron: "${cron}"
    timezone: UTC
    input: { who: scheduler }
${extra}
steps:
  - id: note
    type: set
    values: { who: "{% input.who %}" }
`;
}

/** Engine on memory adapters with a manual clock; plans are published at the clock's current time. */
function makeSetup(start = at("2026-03-02T09:10:00Z")) {
  const clock = new ManualClock(start);
  const kv = new MemoryKeyValue({ clock });
  const queue = new MemoryQueue<WorkMessage>({ name: `sched-${crypto.randomUUID()}`, clock });
  const plans = new KvPlanRepository(kv, { clock });
  const newRunner = () => createRunner({ kv, queue, plans, clock });
  const runner = newRunner();
  const newScheduler = (runnerFor: Runner = runner) => new Scheduler({ kv, plans, runner: runnerFor, clock });
  return { clock, kv, plans, runner, newRunner, newScheduler };
}

async function runIds(kv: MemoryKeyValue): Promise<string[]> {
  const page = await kv.list<{ runId: string }>(runKeys.indexPrefix, { limit: 1000 });
  return page.entries.map((entry) => entry.value.runId).sort();
}

describe("Scheduler", () => {
  it("fires each tick once, pinned to the plan version, with the trigger's input", async () => {
    const { clock, kv, plans, runner, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    const scheduler = newScheduler();

    // 09:00 was before the schedule existed: it never fires.
    expect(await scheduler.check()).toEqual([]);

    clock.set(at("2026-03-02T10:00:00Z"));
    const [firing, ...rest] = await scheduler.check();
    expect(rest).toEqual([]);
    const tick = at("2026-03-02T10:00:00Z");
    expect(firing).toEqual({
      planId: "ops.hourly",
      planVersion: 1,
      triggerIndex: 1,
      tick,
      runId: scheduledRunId("ops.hourly", 1, tick),
      outcome: "started",
    });
    const run = await runner.load(firing!.runId);
    expect(run?.status).toBe("succeeded");
    expect(run?.input).toEqual({ who: "scheduler" });
    expect(run?.steps.note?.output).toEqual({ who: "scheduler" });

    clock.advance(30_000);
    expect(await scheduler.check()).toEqual([]);
    // A second process (nothing cached) finds the tick handled too.
    expect(await newScheduler().check()).toEqual([]);

    clock.set(at("2026-03-02T11:00:05Z"));
    expect((await scheduler.check()).map((f) => f.tick)).toEqual([at("2026-03-02T11:00:00Z")]);
    expect(await runIds(kv)).toEqual([
      scheduledRunId("ops.hourly", 1, at("2026-03-02T10:00:00Z")),
      scheduledRunId("ops.hourly", 1, at("2026-03-02T11:00:00Z")),
    ]);
  });

  it("starts one run per tick when two schedulers on two runners race for every tick", async () => {
    const { clock, kv, plans, newRunner, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    const a = newScheduler(newRunner());
    const b = newScheduler(newRunner());
    const ticks: number[] = [];
    const outcomes: string[] = [];
    for (let hour = 10; hour < 16; hour++) {
      const tick = at(`2026-03-02T${hour}:00:00Z`);
      ticks.push(tick);
      clock.set(tick);
      const [fromA, fromB] = await Promise.all([a.check(), b.check()]);
      outcomes.push(...[...fromA, ...fromB].map((f) => f.outcome));
    }
    expect(await runIds(kv)).toEqual(ticks.map((tick) => scheduledRunId("ops.hourly", 1, tick)).sort());
    // Exactly one scheduler created each run; the other either saw the finished claim or started the same id.
    expect(outcomes.filter((o) => o === "started")).toHaveLength(ticks.length);
    expect(outcomes.every((o) => o === "started" || o === "already_started")).toBe(true);
  });

  it("after downtime fires only the most recent missed tick", async () => {
    const { clock, kv, plans, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    clock.set(at("2026-03-02T10:00:00Z"));
    await newScheduler().check();

    // Down from 10:20 to 14:30: 11:00, 12:00 and 13:00 are lost, 14:00 is caught up once.
    clock.set(at("2026-03-02T14:30:00Z"));
    const restarted = newScheduler();
    expect((await restarted.check()).map((f) => f.tick)).toEqual([at("2026-03-02T14:00:00Z")]);
    expect(await restarted.check()).toEqual([]);
    expect(await runIds(kv)).toEqual([
      scheduledRunId("ops.hourly", 1, at("2026-03-02T10:00:00Z")),
      scheduledRunId("ops.hourly", 1, at("2026-03-02T14:00:00Z")),
    ]);
    // Only the latest claim is kept: older ones are deleted once a newer tick fired.
    const claims = await kv.list(scheduleKeys.claimPrefix("ops.hourly", 1));
    expect(claims.entries.map((e) => e.key)).toEqual([
      scheduleKeys.claim("ops.hourly", 1, at("2026-03-02T14:00:00Z")),
    ]);
  });

  it("heals a claim whose owner died before starting the run", async () => {
    const { clock, kv, plans, runner, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    const tick = at("2026-03-02T10:00:00Z");
    clock.set(tick + 5_000);
    const runId = scheduledRunId("ops.hourly", 1, tick);
    await kv.setIfAbsent(scheduleKeys.claim("ops.hourly", 1, tick), {
      status: "claimed",
      runId,
      planVersion: 1,
      input: { who: "the dead owner" },
      claimedAt: tick,
    });
    const [firing] = await newScheduler().check();
    expect(firing).toMatchObject({ runId, outcome: "started" });
    expect((await runner.load(runId))?.input).toEqual({ who: "the dead owner" });
    expect((await kv.get(scheduleKeys.claim("ops.hourly", 1, tick)))?.value).toMatchObject({
      status: "started",
    });
  });

  it("a changed cron starts over from the new version: no tick from before it fires", async () => {
    const { clock, kv, plans, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    const scheduler = newScheduler();
    clock.set(at("2026-03-02T10:00:00Z"));
    await scheduler.check();

    clock.set(at("2026-03-02T10:40:00Z"));
    await plans.publish(hourlyPlan("30 * * * *"));
    // 10:30 of the new cron is before version 2 existed.
    expect(await scheduler.check()).toEqual([]);
    clock.set(at("2026-03-02T11:30:00Z"));
    expect(await scheduler.check()).toMatchObject([
      { planVersion: 2, tick: at("2026-03-02T11:30:00Z"), outcome: "started" },
    ]);
    expect(await runIds(kv)).toHaveLength(2);
  });

  it("records a trigger whose input the plan refuses as failed, once, without retrying it", async () => {
    const { clock, kv, plans, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan().replace("input: { who: scheduler }", "input: { who: 42 }"));
    const scheduler = newScheduler();
    clock.set(at("2026-03-02T10:00:00Z"));
    const [firing] = await scheduler.check();
    expect(firing?.outcome).toBe("failed");
    expect(firing?.error).toMatch(/input does not match the inputs schema of plan "ops.hourly": who/);
    expect(await scheduler.check()).toEqual([]);
    expect(await newScheduler().check()).toEqual([]);
    expect(await runIds(kv)).toEqual([]);
  });

  it("computes next fire times in the trigger's time zone across daylight-saving changes", async () => {
    const { plans, newScheduler } = makeSetup(at("2026-03-06T00:00:00Z"));
    await plans.publish(`
id: ops.zoned
workflow: automation
title: Zoned
triggers:
  - type: schedule
    cron: "0 9 * * *"
    timezone: America/New_York
  - type: schedule
    cron: "30 2 * * *"
    timezone: Europe/Berlin
steps:
  - id: s
    type: set
    values: { ok: true }
`);
    const [newYork, berlin] = await newScheduler().nextFireTimes(3);
    // 09:00 in New York is 14:00Z in winter (EST) and 13:00Z from 8 March (EDT).
    expect(newYork).toMatchObject({ triggerIndex: 0, cron: "0 9 * * *", timezone: "America/New_York" });
    expect(newYork?.next.map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-06T14:00:00.000Z",
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z",
    ]);
    expect(berlin?.next.map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-06T01:30:00.000Z",
      "2026-03-07T01:30:00.000Z",
      "2026-03-08T01:30:00.000Z",
    ]);
  });

  it("fires a zoned tick at the right instant across the spring-forward gap", async () => {
    const { clock, plans, newScheduler } = makeSetup(at("2026-03-27T12:00:00Z"));
    await plans.publish(hourlyPlan("30 2 * * *").replace("timezone: UTC", "timezone: Europe/Berlin"));
    const scheduler = newScheduler();
    // 02:30 does not exist in Berlin on 29 March 2026: the tick comes right after the gap, 03:00 CEST.
    expect((await scheduler.nextFireTimes(2))[0]?.next.map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
    ]);
    clock.set(at("2026-03-29T00:59:59Z"));
    expect((await scheduler.check()).map((f) => f.tick)).toEqual([at("2026-03-28T01:30:00Z")]);
    clock.set(at("2026-03-29T01:00:00Z"));
    expect((await scheduler.check()).map((f) => f.tick)).toEqual([at("2026-03-29T01:00:00Z")]);
  });

  it("reports the latest claimed tick with the next times", async () => {
    const { clock, plans, newScheduler } = makeSetup();
    await plans.publish(hourlyPlan());
    const scheduler = newScheduler();
    clock.set(at("2026-03-02T10:00:00Z"));
    await scheduler.check();
    const [info] = await scheduler.nextFireTimes(1);
    expect(info).toEqual({
      planId: "ops.hourly",
      planVersion: 1,
      triggerIndex: 1,
      cron: "0 * * * *",
      timezone: "UTC",
      next: [at("2026-03-02T11:00:00Z")],
      last: {
        tick: at("2026-03-02T10:00:00Z"),
        runId: scheduledRunId("ops.hourly", 1, at("2026-03-02T10:00:00Z")),
        status: "started",
      },
    });
  });

  it("never sees a bad cron: publishing rejects it with its position", async () => {
    const { plans } = makeSetup();
    const failure = await plans.publish(hourlyPlan("61 * * * *")).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PlanLoadFailure);
    expect(String((failure as Error).message)).toMatch(
      /triggers\[1\]\.cron|invalid cron expression "61 \* \* \* \*"/,
    );
  });

  it("runs on its own timer until stopped", async () => {
    const kv = new MemoryKeyValue();
    const queue = new MemoryQueue<WorkMessage>({ name: `sched-${crypto.randomUUID()}` });
    const plans = new KvPlanRepository(kv);
    await plans.publish(hourlyPlan("* * * * * *"));
    const runner = createRunner({ kv, queue, plans });
    const scheduler = new Scheduler({ kv, plans, runner, maxSleepMs: 200 });
    scheduler.start();
    try {
      // Every second fires; wait (bounded) until two ticks have started runs.
      for (let i = 0; i < 100 && (await runIds(kv)).length < 2; i++) await sleep(50);
    } finally {
      await scheduler.stop();
    }
    const ids = await runIds(kv);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect((await runner.load(id))?.status).toBe("succeeded");
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
