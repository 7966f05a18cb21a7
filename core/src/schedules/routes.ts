import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { ApiApp } from "../api/context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../api/openapi-route.js";
import type { ScheduleInfo, Scheduler } from "./scheduler.js";

const instant = z
  .object({
    at: z.number().meta({ description: "Epoch milliseconds." }),
    iso: z.string().meta({ description: "The same instant as an ISO 8601 UTC timestamp." }),
  })
  .meta({ id: "ScheduleInstant" });

export const scheduleInfoSchema = z
  .object({
    planId: z.string(),
    planVersion: z.number().int(),
    triggerIndex: z.number().int().meta({ description: "Position of the trigger in the plan's `triggers`." }),
    cron: z.string(),
    timezone: z.string(),
    next: z.array(instant).meta({ description: "Upcoming fire times, soonest first." }),
    last: z
      .object({
        tick: instant,
        runId: z.string(),
        status: z.enum(["claimed", "started", "failed"]),
      })
      .optional()
      .meta({ description: "The latest tick that fired (or was claimed), and its run." }),
  })
  .meta({ id: "Schedule" });

const listSchedulesQuery = z.object({
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(3)
    .meta({ description: "How many upcoming fire times to list per trigger (1–50)." }),
});

const listSchedules = createRoute({
  method: "get",
  path: "/v1/schedules",
  tags: ["plans"],
  summary: "Schedule triggers of the current plan versions, with their next fire times",
  ...allowRoles("responder", "analyst", "developer", "viewer"),
  request: { query: listSchedulesQuery },
  responses: {
    200: {
      description: "Every schedule trigger of every plan's current version.",
      content: { "application/json": { schema: z.object({ items: z.array(scheduleInfoSchema) }) } },
    },
    ...problems(...AUTH_PROBLEMS, 400),
  },
});

/**
 * Adds GET /v1/schedules to the API app. The runtime mounts it next to `createApiApp`'s routes, since
 * the scheduler lives in the runtime and the API app knows nothing about it.
 */
export function registerScheduleRoutes(app: ApiApp, scheduler: Pick<Scheduler, "nextFireTimes">): void {
  app.openapi(listSchedules, async (c) => {
    const { count } = c.req.valid("query");
    const schedules = await scheduler.nextFireTimes(count);
    schedules.sort(
      (a, b) => (a.planId < b.planId ? -1 : a.planId > b.planId ? 1 : 0) || a.triggerIndex - b.triggerIndex,
    );
    return c.json({ items: schedules.map(toResponse) }, 200);
  });
}

function toResponse(info: ScheduleInfo): z.infer<typeof scheduleInfoSchema> {
  return {
    planId: info.planId,
    planVersion: info.planVersion,
    triggerIndex: info.triggerIndex,
    cron: info.cron,
    timezone: info.timezone,
    next: info.next.map(toInstant),
    ...(info.last
      ? { last: { tick: toInstant(info.last.tick), runId: info.last.runId, status: info.last.status } }
      : {}),
  };
}

function toInstant(at: number): { at: number; iso: string } {
  return { at, iso: new Date(at).toISOString() };
}
