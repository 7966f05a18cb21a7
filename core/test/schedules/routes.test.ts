import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  type ApiEnv,
  ApiKeyStore,
  authenticate,
  createRunner,
  KvPlanRepository,
  ManualClock,
  registerScheduleRoutes,
  Scheduler,
  scheduledRunId,
  type WorkMessage,
} from "@aat/core";
import { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";

const PLAN = `
id: ops.daily
workflow: automation
title: Daily
triggers:
  - type: manual
  - type: schedule
    cron: "0 6 * * *"
    timezone: Europe/Berlin
steps:
  - id: s
    type: set
    values: { ok: true }
`;

async function makeApp(mode: "none" | "apiKey") {
  const clock = new ManualClock(Date.parse("2026-03-02T04:00:00Z"));
  const kv = new MemoryKeyValue({ clock });
  const queue = new MemoryQueue<WorkMessage>({ name: `routes-${crypto.randomUUID()}`, clock });
  const plans = new KvPlanRepository(kv, { clock });
  await plans.publish(PLAN);
  const scheduler = new Scheduler({ kv, plans, runner: createRunner({ kv, queue, plans, clock }), clock });
  const app = new OpenAPIHono<ApiEnv>();
  app.use("/v1/*", authenticate<ApiEnv>({ keys: new ApiKeyStore(kv, clock), mode }));
  registerScheduleRoutes(app, scheduler);
  return { app, clock, scheduler };
}

describe("GET /v1/schedules", () => {
  it("lists each schedule trigger with its next fire times and the latest fired tick", async () => {
    const { app, clock, scheduler } = await makeApp("none");
    clock.set(Date.parse("2026-03-02T05:00:00Z"));
    await scheduler.check();
    const response = await app.request("/v1/schedules?count=2");
    expect(response.status).toBe(200);
    const tick = Date.parse("2026-03-02T05:00:00Z");
    expect(await response.json()).toEqual({
      items: [
        {
          planId: "ops.daily",
          planVersion: 1,
          triggerIndex: 1,
          cron: "0 6 * * *",
          timezone: "Europe/Berlin",
          next: [
            { at: Date.parse("2026-03-03T05:00:00Z"), iso: "2026-03-03T05:00:00.000Z" },
            { at: Date.parse("2026-03-04T05:00:00Z"), iso: "2026-03-04T05:00:00.000Z" },
          ],
          last: {
            tick: { at: tick, iso: "2026-03-02T05:00:00.000Z" },
            runId: scheduledRunId("ops.daily", 1, tick),
            status: "started",
          },
        },
      ],
    });
  });

  it("rejects a count out of range", async () => {
    const { app } = await makeApp("none");
    const response = await app.request("/v1/schedules?count=0");
    expect(response.status).toBe(400);
  });

  it("needs credentials", async () => {
    const { app } = await makeApp("apiKey");
    const response = await app.request("/v1/schedules");
    expect(response.status).toBe(401);
  });
});
