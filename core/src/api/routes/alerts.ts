import { randomUUID } from "node:crypto";
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import { ALERT_STATUSES } from "../../workflows/alerts/ocsf.js";
import {
  type AlertRecord,
  alertQuerySchema,
  BadCursorError,
  queryAlerts,
  RESOLUTIONS,
  STATUS_TRANSITIONS,
} from "../../workflows/alerts/store.js";
import type { ApiApp, ApiContext } from "../context.js";
import { allowRoles as allowRolesWithMiddleware, problems } from "../openapi-route.js";
import { ApiProblem, zodProblemErrors } from "../problem.js";
import { jsonBody, parse } from "./alert-sources.js";

const patchSchema = z
  .strictObject({
    status: z.enum(ALERT_STATUSES).optional(),
    /** Required when status becomes resolved. */
    resolution: z
      .strictObject({ kind: z.enum(RESOLUTIONS), comment: z.string().max(4000).optional() })
      .optional(),
    /** A principal id or name; null unassigns. */
    assignee: z.string().min(1).max(200).nullable().optional(),
  })
  .refine((b) => b.status !== undefined || b.assignee !== undefined, {
    message: "give status and/or assignee",
  })
  .refine((b) => b.status !== "resolved" || b.resolution !== undefined, {
    path: ["resolution"],
    message:
      "resolving needs a resolution: { kind: true_positive | false_positive | benign | duplicate | other, comment? }",
  });

const noteSchema = z.strictObject({ text: z.string().min(1).max(10_000) });

function route(method: "get" | "post" | "patch", path: string, summary: string, description: string) {
  return createRoute({
    method,
    path,
    tags: ["alerts"],
    summary,
    description,
    ...allowRoles("responder", ...(method === "get" ? (["viewer", "analyst"] as const) : [])),
    responses: {
      200: { description: summary, content: { "application/json": { schema: z.unknown() } } },
      ...problems(400, 401, 403, 404, 409, 415, 422),
    },
  });
}

/** The documented part of allowRoles: these routes are described to the registry, and guarded by requireRoles. */
function allowRoles(...roles: Parameters<typeof allowRolesWithMiddleware>) {
  const { middleware: _guard, ...described } = allowRolesWithMiddleware(...roles);
  return described;
}

export function registerAlertRoutes(app: ApiApp, ctx: ApiContext): void {
  const store = ctx.alerts.store;
  const readers = requireRoles("responder", "viewer", "analyst");
  const writers = requireRoles("responder");
  app.openAPIRegistry.registerPath(
    route(
      "get",
      "/v1/alerts",
      "List alerts",
      "Query: status, severity (informational|low|medium|high|critical), source, assignee, from/to (ISO 8601, on the alert's time), observable (exact value), q (words in the title), sort (time|-time|severity|-severity|last_seen|-last_seen, default -time), limit (≤ 500), cursor.",
    ),
  );
  app.openAPIRegistry.registerPath(
    route(
      "get",
      "/v1/alerts/{id}",
      "Read an alert",
      "The normalised OCSF alert, raw payload, enrichment, triage runs (with their status), related alerts, notes and timeline.",
    ),
  );
  app.openAPIRegistry.registerPath(
    route(
      "patch",
      "/v1/alerts/{id}",
      "Change an alert's status or assignee",
      `Transitions: ${Object.entries(STATUS_TRANSITIONS)
        .map(([from, to]) => `${from} → ${to.join("|")}`)
        .join("; ")}. Resolving needs a resolution. 409 on a transition not allowed.`,
    ),
  );
  app.openAPIRegistry.registerPath(
    route(
      "post",
      "/v1/alerts/{id}/notes",
      "Add a note",
      "Body { text }. The note lands in notes and the timeline.",
    ),
  );
  app.openAPIRegistry.registerPath(
    route(
      "get",
      "/v1/alert-metrics",
      "Alert ingestion counters (Prometheus text)",
      "Ingested, duplicates merged, rejected by reason, ingestion-to-triage-start latency.",
    ),
  );

  app.get("/v1/alerts", readers, async (c) => {
    const query = alertQuerySchema.safeParse(c.req.query());
    if (!query.success) {
      throw new ApiProblem(400, {
        kind: "validation",
        detail: "invalid query parameters; errors names each",
        errors: zodProblemErrors(query.error.issues, "query"),
      });
    }
    try {
      const page = await queryAlerts(store, query.data);
      return c.json({ items: page.items.map(summary), ...(page.cursor ? { cursor: page.cursor } : {}) });
    } catch (error) {
      if (error instanceof BadCursorError)
        throw new ApiProblem(400, { kind: "bad-cursor", detail: error.message });
      throw error;
    }
  });

  app.get("/v1/alerts/:id", readers, async (c) => {
    const record = await found(ctx, c.req.param("id"));
    const runs = await Promise.all(
      record.runs.map(async (r) => {
        const state = await ctx.deps.runner.load(r.runId).catch(() => undefined);
        return {
          runId: r.runId,
          at: new Date(r.at).toISOString(),
          status: state?.status ?? "unknown",
          planId: state?.plan.id,
          links: { self: `/v1/runs/${r.runId}` },
        };
      }),
    );
    const related = (await Promise.all(record.related.map((id) => store.get(id))))
      .filter((r): r is AlertRecord => r !== undefined)
      .map(summary);
    return c.json({
      ...summary(record),
      alert: record.alert,
      raw: record.alert.raw,
      enrichment: record.enrichment,
      runs,
      related,
      notes: record.notes.map((n) => ({ ...n, at: new Date(n.at).toISOString() })),
      timeline: record.timeline.map((t) => ({ ...t, at: new Date(t.at).toISOString() })),
    });
  });

  app.patch("/v1/alerts/:id", writers, async (c) => {
    const id = c.req.param("id");
    const body = parse(patchSchema, await jsonBody(c));
    const by = c.get("principal").id;
    c.set("audit", {
      target: `alert:${id}`,
      details: {
        ...(body.status ? { status: body.status } : {}),
        ...(body.assignee !== undefined ? { assignee: body.assignee } : {}),
      },
    });
    await found(ctx, id);
    const now = ctx.deps.clock.now();
    const updated = await store.update(id, (r) => {
      const timeline = [...r.timeline];
      let next: AlertRecord = { ...r };
      if (body.status !== undefined && body.status !== r.status) {
        if (!STATUS_TRANSITIONS[r.status].includes(body.status)) {
          throw new ApiProblem(409, {
            kind: "invalid-transition",
            detail: `alert ${id} is ${r.status}; it can move to ${STATUS_TRANSITIONS[r.status].join(" or ")}, not ${body.status}`,
            extra: { currentStatus: r.status, allowed: STATUS_TRANSITIONS[r.status] },
          });
        }
        const ocsf = body.status === "resolved" ? "Resolved" : body.status === "new" ? "New" : "In Progress";
        next = { ...next, status: body.status, alert: { ...next.alert, status: ocsf } };
        if (body.status === "resolved" && body.resolution) next.resolution = body.resolution;
        if (body.status !== "resolved") delete next.resolution;
        timeline.push({
          at: now,
          by,
          type: "status_changed",
          details: {
            from: r.status,
            to: body.status,
            ...(body.resolution ? { resolution: body.resolution.kind } : {}),
          },
        });
      }
      if (body.assignee !== undefined && (body.assignee ?? undefined) !== r.assignee) {
        if (body.assignee === null) delete next.assignee;
        else next.assignee = body.assignee;
        timeline.push({
          at: now,
          by,
          type: "assigned",
          details: { from: r.assignee ?? null, to: body.assignee },
        });
      }
      return { ...next, timeline };
    });
    if (!updated) throw notFound(id);
    return c.json(summary(updated));
  });

  app.post("/v1/alerts/:id/notes", writers, async (c) => {
    const id = c.req.param("id");
    const body = parse(noteSchema, await jsonBody(c));
    const by = c.get("principal").id;
    const note = { id: randomUUID(), at: ctx.deps.clock.now(), by, text: body.text };
    c.set("audit", { target: `alert:${id}`, details: { noteId: note.id } });
    const updated = await store.update(id, (r) => ({
      ...r,
      notes: [...r.notes, note],
      timeline: [...r.timeline, { at: note.at, by, type: "note_added", details: { noteId: note.id } }],
    }));
    if (!updated) throw notFound(id);
    return c.json({ ...note, at: new Date(note.at).toISOString() }, 201);
  });

  app.get("/v1/alert-metrics", readers, (c) => {
    const metrics = ctx.alerts.metrics as { render?: () => string };
    return c.text(metrics.render?.() ?? "", 200, { "content-type": "text/plain; version=0.0.4" });
  });
  // POST /v1/alerts/:id/chat arrives with the chat backend (issue 5): the alert record becomes the chat's context.
}

function summary(r: AlertRecord) {
  const a = r.alert;
  return {
    id: a.id,
    title: a.title,
    severity: a.severity,
    severity_id: a.severity_id,
    status: r.status,
    ...(r.assignee ? { assignee: r.assignee } : {}),
    ...(r.resolution ? { resolution: r.resolution } : {}),
    source: a.source,
    format: a.format,
    fingerprint: a.fingerprint,
    time: new Date(a.time).toISOString(),
    first_seen: new Date(a.first_seen).toISOString(),
    last_seen: new Date(a.last_seen).toISOString(),
    count: a.count,
    observables: a.observables,
    related: r.related,
    links: { self: `/v1/alerts/${a.id}` },
  };
}

async function found(ctx: ApiContext, id: string): Promise<AlertRecord> {
  const record = await ctx.alerts.store.get(id);
  if (!record) throw notFound(id);
  return record;
}

function notFound(id: string): ApiProblem {
  return new ApiProblem(404, { kind: "not-found", detail: `no alert "${id}"; GET /v1/alerts lists them` });
}
