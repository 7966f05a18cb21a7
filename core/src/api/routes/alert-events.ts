import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import { ALERT_STATUSES } from "../../workflows/alerts/ocsf.js";
import type { ApiApp, ApiContext } from "../context.js";
import { allowRoles, problems } from "../openapi-route.js";

const alertChangeSchema = z
  .object({
    id: z.string(),
    status: z.enum(ALERT_STATUSES),
    at: z.string().meta({ description: "ISO 8601 time of the change." }),
  })
  .meta({ id: "AlertChange" });

// Described to the registry without the role middleware (the handler is guarded by requireRoles).
const { middleware: _guard, ...readRoles } = allowRoles("responder", "viewer", "analyst");

const route = createRoute({
  method: "get",
  path: "/v1/alert-events",
  tags: ["alerts"],
  summary: "Follow alert changes (server-sent events)",
  description:
    "One `alert` event per alert created, merged as a duplicate, or changed (status, assignee, notes, enrichment), whichever process made the change; `data` is an AlertChange and `id` resumes the stream (Last-Event-ID) for about two minutes. A client that reconnects later gets one `reset` event: reload the list. Comment lines keep idle connections open.",
  ...readRoles,
  request: {
    headers: z.object({ "last-event-id": z.string().max(200).optional() }),
  },
  responses: {
    200: {
      description: "An event stream of `alert` (AlertChange) and `reset` events.",
      content: { "text/event-stream": { schema: alertChangeSchema } },
    },
    ...problems(401, 403),
  },
});

export function registerAlertEventRoutes(app: ApiApp, ctx: ApiContext): void {
  app.openAPIRegistry.registerPath(route);
  app.get("/v1/alert-events", requireRoles("responder", "viewer", "analyst"), (c) => {
    const feed = ctx.alerts.store.changes;
    const lastEventId = c.req.header("last-event-id");
    const resume = lastEventId !== undefined && feed.canResume(lastEventId) ? lastEventId : undefined;
    const pollMs = Math.min(ctx.deps.sse?.pollMs ?? 1000, 1000);
    const heartbeatMs = ctx.deps.sse?.heartbeatMs ?? 15_000;
    return streamSSE(c, async (stream) => {
      const reader = feed.reader(resume);
      let wake: (() => void) | undefined;
      stream.onAbort(() => wake?.());
      // A client resuming from an id the feed no longer covers may have missed changes.
      if (lastEventId !== undefined && resume === undefined)
        await stream.writeSSE({ event: "reset", data: JSON.stringify({ reason: "resume point too old" }) });
      let idleSince = performance.now();
      try {
        while (!stream.aborted && !stream.closed) {
          for (const { key, change } of await reader.next()) {
            await stream.writeSSE({
              id: key,
              event: "alert",
              data: JSON.stringify({ ...change, at: new Date(change.at).toISOString() }),
            });
            idleSince = performance.now();
          }
          if (performance.now() - idleSince >= heartbeatMs) {
            await stream.write(": keep-alive\n\n");
            idleSince = performance.now();
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } catch (error) {
        // A client that went away makes writes fail: that is the end of the stream, not an error.
        if (stream.aborted || stream.closed) return;
        ctx.logger.error(
          { requestId: c.get("requestId"), error: error instanceof Error ? error.message : String(error) },
          "alert event stream failed",
        );
        await stream
          .writeSSE({
            event: "error",
            data: JSON.stringify({ detail: "the stream failed; reconnect to resume" }),
          })
          .catch(() => undefined);
      }
    });
  });
}
