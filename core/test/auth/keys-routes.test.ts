import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  type AuditVariables,
  type AuthVariables,
  apiKeyListResponseSchema,
  audit,
  authenticate,
  createdApiKeyResponseSchema,
  keysRoutes,
  parseApiKey,
  revokedApiKeyResponseSchema,
} from "../../src/index.js";
import { authFixture, problemOf } from "./helpers.js";

async function setup() {
  const fixture = authFixture();
  const app = new Hono<{ Variables: AuthVariables & AuditVariables }>();
  app.use("*", audit(fixture.log));
  app.use("*", authenticate({ keys: fixture.store, mode: "apiKey" }));
  app.route("/", keysRoutes(fixture.store));
  const admin = await fixture.store.create({ name: "root", roles: ["admin"], createdBy: "test" });
  fixture.clock.advance(1_000);
  const viewer = await fixture.store.create({ name: "look", roles: ["viewer"], createdBy: "test" });
  fixture.clock.advance(1_000);
  return { ...fixture, app, admin, viewer };
}

const as = (key: string, body?: unknown) => ({
  headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
  ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
});

describe("keys routes", () => {
  it("creates a key (201, shown once, no-store) that then authenticates", async () => {
    const { app, admin, store } = await setup();
    const response = await app.request("/v1/keys", {
      method: "POST",
      ...as(admin.key, { name: "ci", roles: ["developer"] }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const created = createdApiKeyResponseSchema.parse(await response.json());
    expect(created.record).toMatchObject({ name: "ci", roles: ["developer"], createdBy: `key:${admin.id}` });
    expect(await store.verify(created.key)).toMatchObject({ id: `key:${created.id}`, roles: ["developer"] });
    const listed = apiKeyListResponseSchema.parse(
      await (await app.request("/v1/keys", as(admin.key))).json(),
    );
    expect(listed.keys.map((key) => key.name)).toEqual(["root", "look", "ci"]);
    // The secret part (base64url, which may itself contain "_") appears nowhere in the listing.
    const secret = parseApiKey(created.key)?.secret;
    expect(secret?.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it("revokes with DELETE, after which the key is refused", async () => {
    const { app, admin, viewer } = await setup();
    const response = await app.request(`/v1/keys/${viewer.id}`, { method: "DELETE", ...as(admin.key) });
    expect(response.status).toBe(200);
    expect(revokedApiKeyResponseSchema.parse(await response.json())).toMatchObject({
      status: "revoked",
      revokedBy: `key:${admin.id}`,
    });
    const refused = await app.request("/v1/keys", as(viewer.key));
    expect(refused.status).toBe(401);
    expect((await problemOf(refused)).reason).toBe("revoked");
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    const { app, admin } = await setup();
    const missing = await app.request("/v1/keys/ffffffffffffffff", { method: "DELETE", ...as(admin.key) });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).detail).toMatch(/no API key with id "ffffffffffffffff"/);
    const malformed = await app.request("/v1/keys/bad_id!", { method: "DELETE", ...as(admin.key) });
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).errors).toEqual([{ path: "id", message: expect.any(String) }]);
  });

  it("validates the body and names each bad field", async () => {
    const { app, admin } = await setup();
    const bad = await app.request("/v1/keys", {
      method: "POST",
      ...as(admin.key, { name: "", roles: ["root"], extra: 1 }),
    });
    expect(bad.status).toBe(422);
    const problem = await problemOf(bad);
    const paths = (problem.errors as Array<{ path: string }>).map((error) => error.path).sort();
    expect(paths).toEqual(["body", "name", "roles[0]"]);
    expect(problem).toMatchObject({ type: "https://aat.dev/problems/validation", instance: "/v1/keys" });
    const notJson = await app.request("/v1/keys", { method: "POST", ...as(admin.key, "{nope") });
    expect(notJson.status).toBe(400);
    expect((await problemOf(notJson)).detail).toMatch(/not JSON/);
    const past = await app.request("/v1/keys", {
      method: "POST",
      ...as(admin.key, { name: "x", roles: ["viewer"], expiresAt: "2020-01-01T00:00:00Z" }),
    });
    expect(past.status).toBe(422);
    expect((await problemOf(past)).errors).toEqual([
      { path: "expiresAt", message: expect.stringMatching(/future/) },
    ]);
  });

  it("is admin only: 401 without a key, 403 for other roles, on every route", async () => {
    const { app, viewer, admin } = await setup();
    for (const [method, path] of [
      ["POST", "/v1/keys"],
      ["GET", "/v1/keys"],
      ["DELETE", `/v1/keys/${admin.id}`],
    ] as const) {
      expect((await app.request(path, { method })).status).toBe(401);
      const body = method === "POST" ? { name: "x", roles: ["admin"] } : undefined;
      const forbidden = await app.request(path, { method, ...as(viewer.key, body) });
      expect(forbidden.status).toBe(403);
      expect(await problemOf(forbidden)).toMatchObject({ reason: "missing-role", allowedRoles: ["admin"] });
    }
  });

  it("audits creation and revocation with the key id as target and no secret", async () => {
    const { app, admin, viewer, log } = await setup();
    const created = createdApiKeyResponseSchema.parse(
      await (
        await app.request("/v1/keys", {
          method: "POST",
          ...as(admin.key, { name: "ci", roles: ["analyst"] }),
        })
      ).json(),
    );
    await app.request(`/v1/keys/${created.id}`, { method: "DELETE", ...as(admin.key) });
    await app.request("/v1/keys", {
      method: "POST",
      ...as(viewer.key, { name: "sneaky", roles: ["admin"] }),
    });
    const { entries } = await log.list({ limit: 10 });
    expect(
      entries.map(({ who, action, target, result, status, details }) => ({
        who,
        action,
        target,
        result,
        status,
        details,
      })),
    ).toEqual([
      {
        who: `key:${admin.id}`,
        action: "POST /v1/keys",
        target: `key:${created.id}`,
        result: "ok",
        status: 201,
        details: { name: "ci", roles: ["analyst"] },
      },
      {
        who: `key:${admin.id}`,
        action: "DELETE /v1/keys/:id",
        target: `key:${created.id}`,
        result: "ok",
        status: 200,
        details: undefined,
      },
      {
        who: `key:${viewer.id}`,
        action: "POST /v1/keys",
        target: "/v1/keys",
        result: "denied",
        status: 403,
        details: undefined,
      },
    ]);
    expect(JSON.stringify(entries)).not.toContain(created.key);
  });
});
