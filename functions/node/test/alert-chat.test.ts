import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { AuditLog, aatConfigSchema, type KeyValue, signWebhook, systemClock } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  alertDetailSchema,
  alertNoteSchema,
  alertPageSchema,
  alertSourceListSchema,
  alertSourceSchema,
  alertSourceWithSecretSchema,
  alertSummarySchema,
  webhookDeliverySchema,
  webhookTestSchema,
} from "../../../core/src/api/routes/alert-schemas.js";
import { chatTurnResponseSchema } from "../../../core/src/api/routes/chat.js";
import { capturingLogger, REPO_ROOT, SHIPPED_PLANS, tempDir } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in this test.
type J = any;

const admin = { authorization: "Bearer aat_alertchat_0123456789abcdef0123456789abcdef" };
let runtime: NodeRuntime;
let dataDir: string;
let kv: KeyValue;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: J }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { ...admin, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

/** The SSE events of a response body, in order. */
function events(text: string): Array<{ event: string; data: J }> {
  return text
    .split("\n\n")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return event && data ? { event, data: JSON.parse(data) } : undefined;
    })
    .filter((e): e is { event: string; data: J } => e !== undefined);
}

beforeAll(async () => {
  dataDir = await tempDir("alert-chat");
  const config = aatConfigSchema.parse({
    dataDir,
    server: { port: 0 },
    plans: { directories: [SHIPPED_PLANS], watch: false },
    auth: { mode: "apiKey", bootstrapAdminKey: admin.authorization.slice(7) },
  });
  runtime = await startNodeRuntime({
    config,
    logger: capturingLogger().logger,
    print: () => {},
    decorateStores: (stores) => {
      kv = stores.kv;
      return stores;
    },
  });
});

afterAll(async () => {
  await runtime?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("POST /v1/alerts/:id/chat", () => {
  it("streams a reply about the alert in a session with alert context, reused by the next message; recorded in the timeline and the audit log", async () => {
    const created = await api("POST", "/v1/alert-sources", {
      id: "chatsrc",
      format: "generic",
      auth: { mode: "hmac" },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const body = readFileSync(join(REPO_ROOT, "examples/alerts/generic.json"), "utf8");
    const delivered = await fetch(`${runtime.url}/v1/webhooks/chatsrc`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-AAT-Signature": signWebhook(created.json.secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    expect(delivered.status).toBe(202);
    const { id } = ((await delivered.json()) as J).alerts[0];

    const first = await fetch(`${runtime.url}/v1/alerts/${id}/chat`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ text: "What happened with this alert?" }),
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    const sessionId = first.headers.get("x-chat-session");
    expect(sessionId).toBeTruthy();
    const firstEvents = events(await first.text());
    expect(firstEvents[0]).toMatchObject({ event: "turn", data: { sessionId } });
    const done = firstEvents.find((e) => e.event === "done");
    expect(done?.data.status).toBe("succeeded");
    expect(done?.data.message.text.length).toBeGreaterThan(0);

    const session = await api("GET", `/v1/chat/sessions/${sessionId}`);
    expect(session.json.session.context).toEqual([{ kind: "alert", id }]);

    // The second message reuses the session.
    const second = await fetch(`${runtime.url}/v1/alerts/${id}/chat`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ text: "And what should I do next?" }),
    });
    const secondJson = (await second.json()) as J;
    expect(second.status, JSON.stringify(secondJson)).toBe(200);
    expect(second.headers.get("x-chat-session")).toBe(sessionId);
    expect(secondJson.status).toBe("succeeded");
    const messages = (await api("GET", `/v1/chat/sessions/${sessionId}`)).json.messages;
    expect(messages.map((m: J) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);

    const alert = (await api("GET", `/v1/alerts/${id}`)).json;
    const chats = alert.timeline.filter((t: J) => t.type === "chat_message");
    expect(chats).toHaveLength(2);
    expect(chats[0].details).toMatchObject({ sessionId, runId: done?.data.runId });

    const audit = await new AuditLog(kv, systemClock).list({ limit: 500 });
    const entries = audit.entries.filter((e) => e.action === "POST /v1/alerts/:id/chat");
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      target: `alert:${id}`,
      result: "ok",
      details: { chatSession: sessionId },
    });
  }, 60_000);

  it("answers 404 problem+json for an unknown alert, and creates no session", async () => {
    const response = await fetch(`${runtime.url}/v1/alerts/no-such-alert/chat`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await response.json()) as J;
    expect(problem.detail).toContain('no alert "no-such-alert"');
    expect((await kv.list("alerts/chat/no-such-alert/")).entries).toHaveLength(0);
  });

  it("refuses an empty message with 422 naming the field", async () => {
    const response = await fetch(`${runtime.url}/v1/alerts/whatever/chat`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ text: "" }),
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain("text");
  });

  it("every alert and source route answers what its OpenAPI schema says", async () => {
    const strict = <T>(schema: { parse(v: unknown): T }, value: unknown) => schema.parse(value);
    const created = await api("POST", "/v1/alert-sources", {
      id: "schemasrc",
      format: "generic",
      auth: { mode: "hmac" },
    });
    strict(alertSourceWithSecretSchema, created.json);
    strict(alertSourceListSchema, (await api("GET", "/v1/alert-sources")).json);
    strict(alertSourceSchema, (await api("GET", "/v1/alert-sources/schemasrc")).json);
    strict(alertSourceWithSecretSchema, (await api("POST", "/v1/alert-sources/schemasrc/rotate", {})).json);
    strict(alertSourceSchema, (await api("POST", "/v1/alert-sources/schemasrc/disable")).json);
    strict(alertSourceSchema, (await api("POST", "/v1/alert-sources/schemasrc/enable")).json);
    strict(webhookTestSchema, (await api("GET", "/v1/webhooks/schemasrc/test")).json);
    const secret = (await api("POST", "/v1/alert-sources/schemasrc/rotate", {})).json.secret;
    const body = readFileSync(join(REPO_ROOT, "examples/alerts/generic.json"), "utf8");
    const delivered = await fetch(`${runtime.url}/v1/webhooks/schemasrc`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-AAT-Signature": signWebhook(secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    const delivery = strict(webhookDeliverySchema, await delivered.json());
    const id = delivery.alerts[0]!.id;
    strict(alertPageSchema, (await api("GET", "/v1/alerts?source=schemasrc")).json);
    strict(alertDetailSchema, (await api("GET", `/v1/alerts/${id}`)).json);
    strict(alertNoteSchema, (await api("POST", `/v1/alerts/${id}/notes`, { text: "checked" })).json);
    strict(alertSummarySchema, (await api("PATCH", `/v1/alerts/${id}`, { assignee: "alice" })).json);
    const turn = await fetch(`${runtime.url}/v1/alerts/${id}/chat`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ text: "Summarise it." }),
    });
    strict(chatTurnResponseSchema, await turn.json());
    // The schemas are strict enough to notice a missing field.
    expect(alertSummarySchema.safeParse({ ...delivery, id }).success).toBe(false);
  }, 60_000);
});
