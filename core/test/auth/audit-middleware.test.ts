import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  type AuditEntry,
  AuditLog,
  type AuditRecordInput,
  type AuditVariables,
  type AuthVariables,
  audit,
  authenticate,
  requireRoles,
} from "../../src/index.js";
import { authFixture } from "./helpers.js";

async function setup() {
  const fixture = authFixture();
  const app = new Hono<{ Variables: AuthVariables & AuditVariables }>();
  app.use("*", audit(fixture.log));
  app.use("*", authenticate({ keys: fixture.store, mode: "apiKey" }));
  app.get("/v1/runs", requireRoles("viewer"), (c) => c.json([]));
  app.post("/v1/runs/:id/cancel", requireRoles("responder"), (c) => c.json({ cancelled: c.req.param("id") }));
  app.put("/v1/plans/:id", requireRoles("developer"), (c) => {
    c.set("audit", { target: `plan:${c.req.param("id")}`, details: { version: 3 } });
    return c.json({ version: 3 });
  });
  app.delete("/v1/broken", requireRoles("viewer"), () => {
    throw new Error("boom");
  });
  app.onError((_error, c) => c.json({ title: "Internal error" }, 500));
  const responder = await fixture.store.create({ name: "r", roles: ["responder"], createdBy: "t" });
  const viewer = await fixture.store.create({ name: "v", roles: ["viewer"], createdBy: "t" });
  const entries = async (): Promise<AuditEntry[]> => (await fixture.log.list({ limit: 100 })).entries;
  return { ...fixture, app, responder, viewer, entries };
}

const auth = (key: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${key}`,
  ...extra,
});

describe("audit middleware", () => {
  it("records an allowed state-changing call with who, what, target, result and request id", async () => {
    const { app, responder, entries } = await setup();
    const response = await app.request("/v1/runs/r-1/cancel", {
      method: "POST",
      headers: auth(responder.key, { "x-request-id": "req-77" }),
    });
    expect(response.status).toBe(200);
    const [recorded] = await entries();
    expect(recorded).toEqual({
      id: expect.stringMatching(/^\d{15}-[0-9a-f]{16}$/),
      who: `key:${responder.id}`,
      action: "POST /v1/runs/:id/cancel",
      target: "/v1/runs/r-1/cancel",
      result: "ok",
      status: 200,
      at: "2026-01-01T00:00:00.000Z",
      requestId: "req-77",
    });
  });

  it("records 401 denials as anonymous and 403 denials under the caller", async () => {
    const { app, viewer, entries } = await setup();
    expect((await app.request("/v1/runs/r-1/cancel", { method: "POST" })).status).toBe(401);
    expect(
      (await app.request("/v1/runs/r-1/cancel", { method: "POST", headers: auth(viewer.key) })).status,
    ).toBe(403);
    const [unauthenticated, forbidden] = await entries();
    expect(unauthenticated).toMatchObject({ who: "anonymous", result: "denied", status: 401 });
    expect(forbidden).toMatchObject({ who: `key:${viewer.id}`, result: "denied", status: 403 });
  });

  it("does not record reads", async () => {
    const { app, viewer, entries } = await setup();
    expect((await app.request("/v1/runs", { headers: auth(viewer.key) })).status).toBe(200);
    expect(await entries()).toEqual([]);
  });

  it("records failures as error and takes target and details from the handler", async () => {
    const { app, viewer, responder, store, entries } = await setup();
    expect((await app.request("/v1/broken", { method: "DELETE", headers: auth(viewer.key) })).status).toBe(
      500,
    );
    const developer = await store.create({ name: "d", roles: ["developer"], createdBy: "t" });
    await app.request("/v1/plans/p1", { method: "PUT", headers: auth(developer.key), body: "{}" });
    await app.request("/v1/nowhere", { method: "POST", headers: auth(responder.key) });
    const [failed, published, unmatched] = await entries();
    expect(failed).toMatchObject({ action: "DELETE /v1/broken", result: "error", status: 500 });
    expect(published).toMatchObject({ target: "plan:p1", details: { version: 3 }, result: "ok" });
    expect(unmatched).toMatchObject({ action: "POST /v1/nowhere", result: "error", status: 404 });
  });

  it("never records bodies, query strings or credentials", async () => {
    const { app, responder, entries } = await setup();
    await app.request("/v1/runs/r-9/cancel?token=query-secret", {
      method: "POST",
      headers: auth(responder.key, { "content-type": "application/json" }),
      body: JSON.stringify({ password: "body-secret" }),
    });
    await app.request("/v1/runs/r-9/cancel", { method: "POST", headers: auth(`${responder.key}x`) });
    const text = JSON.stringify(await entries());
    expect(text).not.toContain("body-secret");
    expect(text).not.toContain("query-secret");
    expect(text).not.toContain(responder.key);
  });

  it("keeps the response when the entry cannot be written and reports the failure", async () => {
    const { store, kv, clock, responder } = await setup();
    const failingLog = new AuditLog(
      new Proxy(kv, {
        get: (target, property, receiver) =>
          property === "set"
            ? () => Promise.reject(new Error("disk full"))
            : Reflect.get(target, property, receiver),
      }),
      clock,
    );
    const reported: Array<[string, AuditRecordInput]> = [];
    const app = new Hono();
    app.use(
      "*",
      audit(failingLog, { onRecordError: (error, entry) => reported.push([String(error), entry]) }),
    );
    app.use("*", authenticate({ keys: store, mode: "apiKey" }));
    app.post("/v1/x", (c) => c.json({ done: true }));
    const response = await app.request("/v1/x", { method: "POST", headers: auth(responder.key) });
    expect(response.status).toBe(200);
    expect(reported).toEqual([
      ["Error: disk full", expect.objectContaining({ action: "POST /v1/x", status: 200 })],
    ]);
  });

  it("writes nothing for an entry the handler stored itself, and replaces it when the call ended otherwise", async () => {
    const { kv, log } = authFixture();
    const app = new Hono<{ Variables: AuditVariables }>();
    app.use("*", audit(log));
    const prepare = () =>
      log.prepare({
        who: "anonymous",
        action: "POST /v1/hook",
        target: "hook:h",
        result: "ok",
        status: 202,
        requestId: "q",
      });
    app.post("/v1/hook", async (c) => {
      const { key, entry } = prepare();
      await kv.set(key, entry);
      c.set("audit", { target: "hook:h", prepared: entry });
      return c.json({}, 202);
    });
    app.post("/v1/failing-hook", async (c) => {
      const { key, entry } = prepare();
      await kv.set(key, entry);
      c.set("audit", { target: "hook:h", prepared: entry });
      throw new Error("queue down");
    });
    app.onError((_error, c) => c.json({ title: "Service unavailable" }, 503));
    await app.request("/v1/hook", { method: "POST" });
    const stored = (await log.list({ limit: 10 })).entries;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 202, result: "ok" });

    await app.request("/v1/failing-hook", { method: "POST" });
    const after = (await log.list({ limit: 10 })).entries;
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ status: 503, result: "error", action: "POST /v1/failing-hook" });
  });
});
