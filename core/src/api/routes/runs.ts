import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { TERMINAL_RUN_STATUSES } from "../../graph/types.js";
import { type ApiApp, type ApiContext, runLinks } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import { streamRunEvents } from "../run-event-stream.js";
import { listRuns } from "../run-listing.js";
import {
  cancelBodySchema,
  eventsQuerySchema,
  getRunQuerySchema,
  getRunResponseSchema,
  listRunsQuerySchema,
  listRunsResponseSchema,
  runIdParamsSchema,
  runStatusResponseSchema,
  startRunBodySchema,
  startRunResponseSchema,
} from "../schemas.js";

const startRun = createRoute({
  method: "post",
  path: "/v1/runs",
  tags: ["runs"],
  summary: "Start a run",
  description:
    "Starts a plan by id, or lets the planner choose one by workflow (and event) and the input. With an `idempotencyKey`, repeating the request returns the same run (Idempotent-Replayed: true); reusing a key for a different request is a 409.",
  ...allowRoles("responder", "analyst", "developer"),
  request: {
    body: { required: true, content: { "application/json": { schema: startRunBodySchema } } },
  },
  responses: {
    202: {
      description: "The run is stored and its first steps are queued or done.",
      content: { "application/json": { schema: startRunResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 409, 413, 415, 422),
  },
});

const listRunsRoute = createRoute({
  method: "get",
  path: "/v1/runs",
  tags: ["runs"],
  summary: "List runs, newest first",
  description:
    "Pages through the run index newest first. workflow, plan, since and until are read from the index; status is read from each run's snapshot, so a status filter scans the index (at most 1000 entries per request: a page may be short, follow nextCursor).",
  ...allowRoles("responder", "analyst", "developer", "viewer"),
  request: { query: listRunsQuerySchema },
  responses: {
    200: {
      description: "A page of runs.",
      content: { "application/json": { schema: listRunsResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400),
  },
});

const getRun = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  tags: ["runs"],
  summary: "A run's state, steps and a page of its event log",
  ...allowRoles("responder", "analyst", "developer", "viewer"),
  request: { params: runIdParamsSchema, query: getRunQuerySchema },
  responses: {
    200: { description: "The run.", content: { "application/json": { schema: getRunResponseSchema } } },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

const cancelRun = createRoute({
  method: "post",
  path: "/v1/runs/{id}/cancel",
  tags: ["runs"],
  summary: "Cancel a run",
  description: "409 when the run has already finished.",
  ...allowRoles("responder", "developer"),
  request: {
    params: runIdParamsSchema,
    body: { required: false, content: { "application/json": { schema: cancelBodySchema } } },
  },
  responses: {
    200: {
      description: "The run is cancelled.",
      content: { "application/json": { schema: runStatusResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 409, 415, 422),
  },
});

const runEvents = createRoute({
  method: "get",
  path: "/v1/runs/{id}/events",
  tags: ["runs"],
  summary: "Stream a run's events (server-sent events)",
  description:
    "Each event of the run's log as an SSE message: `id` is its seq, `event` its type, `data` the event as JSON. Resume with the Last-Event-ID header (or ?after=<seq>). Comment lines keep the connection alive. After the run's final event an `end` message (data: {runId, status, version}) closes the stream.",
  ...allowRoles("responder", "analyst", "developer", "viewer"),
  request: {
    params: runIdParamsSchema,
    query: eventsQuerySchema,
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d+$/, "must be the seq of the last event received")
        .optional()
        .meta({ description: "Resume after this seq." }),
    }),
  },
  responses: {
    200: {
      description: "An event stream.",
      content: { "text/event-stream": { schema: z.string().meta({ description: "text/event-stream" }) } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

export function registerRunRoutes(app: ApiApp, ctx: ApiContext): void {
  const { deps } = ctx;

  app.openapi(startRun, async (c) => {
    const body = c.req.valid("json");
    const started = await ctx.starter.start(
      {
        ...(body.planId !== undefined ? { planId: body.planId } : {}),
        ...(body.version !== undefined ? { version: body.version } : {}),
        ...(body.workflow !== undefined ? { workflow: body.workflow } : {}),
        ...(body.event !== undefined ? { event: body.event } : {}),
        input: body.input ?? {},
        ...(body.idempotencyKey !== undefined ? { idempotencyKey: body.idempotencyKey } : {}),
      },
      c.get("principal").id,
    );
    c.set("audit", {
      target: `run:${started.runId}`,
      details: {
        planId: started.state.plan.id,
        planVersion: started.state.plan.version,
        created: started.created,
      },
    });
    const links = runLinks(started.runId);
    return c.json(
      {
        runId: started.runId,
        status: started.state.status,
        plan: { id: started.state.plan.id, version: started.state.plan.version },
        created: started.created,
        links,
      },
      202,
      { Location: links.self, ...(started.created ? {} : { "Idempotent-Replayed": "true" }) },
    );
  });

  app.openapi(listRunsRoute, async (c) => {
    const { limit, cursor, ...filters } = c.req.valid("query");
    const page = await listRuns(deps.kv, deps.runner, filters, limit, cursor);
    return c.json(page, 200);
  });

  app.openapi(getRun, async (c) => {
    const { id } = c.req.valid("param");
    const { eventsAfter, eventsLimit } = c.req.valid("query");
    const run = await deps.runner.load(id);
    if (!run) throw runNotFound(id);
    const items = eventsLimit === 0 ? [] : await deps.runner.store.listLog(id, eventsAfter, eventsLimit);
    const lastSeq = items.at(-1)?.seq ?? eventsAfter;
    return c.json(
      {
        run,
        events: { items, ...(lastSeq < run.version ? { nextAfter: lastSeq } : {}) },
        links: runLinks(id),
      },
      200,
    );
  });

  app.openapi(cancelRun, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json") as z.infer<typeof cancelBodySchema>;
    c.set("audit", { target: `run:${id}` });
    const current = await deps.runner.load(id);
    if (!current) throw runNotFound(id);
    if (TERMINAL_RUN_STATUSES.includes(current.status)) throw alreadyFinished(id, current.status);
    const decision = await deps.runner.cancel(id, c.get("principal").id, body.reason);
    if (!decision.accepted) throw alreadyFinished(id, decision.state.status);
    return c.json({ runId: id, status: decision.state.status, version: decision.state.version }, 200);
  });

  app.openapi(runEvents, async (c) => {
    const { id } = c.req.valid("param");
    const { after } = c.req.valid("query");
    const lastEventId = c.req.valid("header")["last-event-id"];
    const from = lastEventId !== undefined ? Number(lastEventId) : (after ?? 0);
    const first = await deps.runner.store.listLog(id, 0, 1);
    if (first.length === 0) throw runNotFound(id);
    const options = { pollMs: deps.sse?.pollMs ?? 2000, heartbeatMs: deps.sse?.heartbeatMs ?? 15_000 };
    return streamSSE(c, async (stream) => {
      try {
        await streamRunEvents(stream, deps.runner, deps.events, id, from, options);
      } catch (error) {
        // A client that went away makes writes fail: that is the end of the stream, not an error.
        if (stream.aborted || stream.closed) return;
        const requestId = c.get("requestId");
        ctx.logger.error(
          { requestId, runId: id, error: error instanceof Error ? error.message : String(error) },
          "run event stream failed",
        );
        // Tell the client without details; EventSource reconnects with Last-Event-ID and resumes.
        await stream
          .writeSSE({
            event: "error",
            data: JSON.stringify({
              requestId,
              detail: "the stream failed on the server; reconnect to resume",
            }),
          })
          .catch(() => undefined);
      }
    });
  });
}

export function runNotFound(runId: string): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `run "${runId}" does not exist; GET /v1/runs lists runs`,
    extra: { runId },
  });
}

function alreadyFinished(runId: string, status: string): ApiProblem {
  return new ApiProblem(409, {
    kind: "run-finished",
    detail: `run "${runId}" has already finished with status ${status}; only running or waiting runs can be cancelled`,
    extra: { runId, currentStatus: status },
  });
}
