import { randomUUID } from "node:crypto";
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import type { Principal } from "../../auth/principal.js";
import { ALERT_STATUSES } from "../../workflows/alerts/ocsf.js";
import {
  type AlertRecord,
  alertQuerySchema,
  BadCursorError,
  queryAlerts,
  RESOLUTIONS,
  STATUS_TRANSITIONS,
} from "../../workflows/alerts/store.js";
import type { ChatService } from "../../workflows/chat/service.js";
import type { ApiApp, ApiContext } from "../context.js";
import { allowRoles as allowRolesWithMiddleware, problems } from "../openapi-route.js";
import { ApiProblem, zodProblemErrors } from "../problem.js";
import { alertDetailSchema, alertNoteSchema, alertPageSchema, alertSummarySchema } from "./alert-schemas.js";
import { jsonBody, parse } from "./alert-sources.js";
import { answerTurn, chatTurnResponseSchema, mapped } from "./chat.js";

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
  })
  .meta({ id: "AlertPatch" });

const noteSchema = z.strictObject({ text: z.string().min(1).max(10_000) }).meta({ id: "AlertNoteCreate" });

/** The documented part of allowRoles: these routes are described to the registry, and guarded by requireRoles. */
function allowRoles(...roles: Parameters<typeof allowRolesWithMiddleware>) {
  const { middleware: _guard, ...described } = allowRolesWithMiddleware(...roles);
  return described;
}

export function registerAlertRoutes(app: ApiApp, ctx: ApiContext): void {
  const store = ctx.alerts.store;
  const readers = requireRoles("responder", "viewer", "analyst");
  const writers = requireRoles("responder");
  const readRoles = allowRoles("responder", "viewer", "analyst");
  const writeRoles = allowRoles("responder");
  const idParams = z.object({ id: z.string().meta({ description: "The alert id." }) });
  const json = <S extends z.ZodType>(description: string, schema: S) => ({
    description,
    content: { "application/json": { schema } },
  });
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/v1/alerts",
      tags: ["alerts"],
      summary: "List alerts",
      description:
        "Filters: status, severity (informational|low|medium|high|critical), source, assignee, from/to (ISO 8601, on the alert's time), observable (exact value), q (words in the title); sort (time|-time|severity|-severity|last_seen|-last_seen, default -time); limit (≤ 500) and cursor (from the previous page).",
      ...readRoles,
      request: { query: alertQuerySchema },
      responses: { 200: json("A page of alerts.", alertPageSchema), ...problems(400, 401, 403) },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/v1/alerts/{id}",
      tags: ["alerts"],
      summary: "Read an alert",
      description:
        "The normalised OCSF alert, raw payload, enrichment, triage runs (with their status), related alerts, notes and timeline.",
      ...readRoles,
      request: { params: idParams },
      responses: { 200: json("The alert.", alertDetailSchema), ...problems(401, 403, 404) },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "patch",
      path: "/v1/alerts/{id}",
      tags: ["alerts"],
      summary: "Change an alert's status or assignee",
      description: `Transitions: ${Object.entries(STATUS_TRANSITIONS)
        .map(([from, to]) => `${from} → ${to.join("|")}`)
        .join("; ")}. Resolving needs a resolution. 409 on a transition not allowed.`,
      ...writeRoles,
      request: {
        params: idParams,
        body: { required: true, content: { "application/json": { schema: patchSchema } } },
      },
      responses: {
        200: json("The alert after the change.", alertSummarySchema),
        ...problems(400, 401, 403, 404, 409, 415, 422),
      },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/v1/alerts/{id}/notes",
      tags: ["alerts"],
      summary: "Add a note",
      description: "The note lands in notes and the timeline.",
      ...writeRoles,
      request: {
        params: idParams,
        body: { required: true, content: { "application/json": { schema: noteSchema } } },
      },
      responses: { 201: json("The note.", alertNoteSchema), ...problems(400, 401, 403, 404, 415, 422) },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/v1/alert-metrics",
      tags: ["alerts"],
      summary: "Alert ingestion counters (Prometheus text)",
      description: "Ingested, duplicates merged, rejected by reason, ingestion-to-triage-start latency.",
      ...readRoles,
      responses: {
        200: {
          description: "Prometheus text exposition format.",
          content: { "text/plain": { schema: z.string() } },
        },
        ...problems(401, 403),
      },
    }),
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
  if (ctx.deps.chat) registerAlertChat(app, ctx, ctx.deps.chat);
}

/** The pointer from an alert and a person to their chat session about it. */
const chatPointer = (alertId: string, owner: string) => `alerts/chat/${alertId}/${encodeURIComponent(owner)}`;

const alertChatBody = z
  .strictObject({
    text: z
      .string()
      .trim()
      .min(1, "must not be empty: write the message to send")
      .max(32_000, "may be at most 32,000 characters"),
  })
  .meta({ id: "AlertChatMessage" });

/**
 * POST /v1/alerts/:id/chat: a chat turn about one alert. Each person has one session per alert, with
 * the alert attached as context (`alert:<id>`); the first message creates it, later ones reuse it (a
 * deleted session is replaced). The reply answers like POST /v1/chat/sessions/:id/messages.
 */
function registerAlertChat(app: ApiApp, ctx: ApiContext, chat: ChatService): void {
  const chatters = requireRoles("responder", "analyst", "developer");
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/v1/alerts/{id}/chat",
      tags: ["alerts"],
      summary: "Chat about an alert; the reply streams as server-sent events",
      description: [
        "Sends a message in your chat session about this alert, creating it on the first message (one",
        "session per person and alert, with the alert attached as `alert:<id>` context; later messages",
        "reuse it, and its id is in the `turn` event and the X-Chat-Session header). The answer is the same",
        "as POST /v1/chat/sessions/{id}/messages: an event stream, or JSON with Accept: application/json.",
        "The message is recorded in the alert's timeline (chat_message) and the audit log.",
      ].join(" "),
      ...allowRoles("responder", "analyst", "developer"),
      request: {
        params: z.object({ id: z.string().meta({ description: "The alert id." }) }),
        body: { required: true, content: { "application/json": { schema: alertChatBody } } },
      },
      responses: {
        200: {
          description: "The reply: an event stream, or JSON with Accept: application/json.",
          content: {
            "text/event-stream": { schema: z.string().meta({ description: "text/event-stream" }) },
            "application/json": { schema: chatTurnResponseSchema },
          },
        },
        ...problems(400, 401, 403, 404, 409, 415, 422, 503),
      },
    }),
  );

  app.post("/v1/alerts/:id/chat", chatters, async (c) => {
    const id = c.req.param("id");
    const { text } = parse(alertChatBody, await jsonBody(c));
    const alert = await found(ctx, id);
    const principal = c.get("principal");
    const sessionId = await alertSession(ctx, chat, principal, alert);
    const turn = await mapped(() => chat.begin(principal, sessionId, text), chat.planId);
    c.set("audit", { target: `alert:${id}`, details: { chatSession: sessionId, runId: turn.runId } });
    await ctx.alerts.store.update(id, (r) => ({
      ...r,
      timeline: [
        ...r.timeline,
        {
          at: ctx.deps.clock.now(),
          by: principal.id,
          type: "chat_message",
          details: { sessionId, runId: turn.runId },
        },
      ],
    }));
    c.header("X-Chat-Session", sessionId);
    return answerTurn(c, ctx, turn, sessionId);
  });
}

/** The person's session about this alert: the one the pointer names while it exists, else a new one. */
async function alertSession(
  ctx: ApiContext,
  chat: ChatService,
  principal: Principal,
  alert: AlertRecord,
): Promise<string> {
  const key = chatPointer(alert.alert.id, principal.id);
  const existing = await ctx.deps.kv.get<{ sessionId: string }>(key);
  if (existing) {
    const session = await chat.store.get(existing.value.sessionId);
    if (session && session.owner === principal.id) return session.id;
  }
  const created = await chat.create(principal, {
    title: `Alert: ${alert.alert.title}`.slice(0, 200),
    context: [{ kind: "alert", id: alert.alert.id }],
  });
  const claimed = existing
    ? await ctx.deps.kv.compareAndSet(key, { sessionId: created.id }, existing.version)
    : await ctx.deps.kv.setIfAbsent(key, { sessionId: created.id });
  if (claimed.ok) return created.id;
  // Another request of the same person created one first: use theirs, drop ours.
  await chat.delete(principal, created.id);
  const winner = await ctx.deps.kv.get<{ sessionId: string }>(key);
  if (!winner) throw new Error(`the chat session pointer of alert ${alert.alert.id} vanished`);
  return winner.value.sessionId;
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
