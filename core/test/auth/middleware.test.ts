import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  type AuthEnv,
  type AuthenticateOptions,
  allows,
  authenticate,
  type Principal,
  requireRoles,
} from "../../src/index.js";
import { authFixture, problemOf } from "./helpers.js";

function appWith(options: AuthenticateOptions) {
  const app = new Hono<AuthEnv>();
  app.use("*", authenticate(options));
  app.get("/v1/runs", requireRoles("viewer", "analyst"), (c) => c.json(c.get("principal")));
  app.post("/v1/approvals", requireRoles("responder"), (c) => c.json({ approved: true }));
  return app;
}

async function setup() {
  const fixture = authFixture();
  const app = appWith({ keys: fixture.store, mode: "apiKey" });
  const make = async (roles: Principal["roles"], expiresAt?: string) =>
    fixture.store.create({
      name: roles.join("+"),
      roles,
      createdBy: "test",
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  return { ...fixture, app, make };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("authenticate", () => {
  it("answers 401 problem+json telling how to authenticate when no credentials are sent", async () => {
    const { app } = await setup();
    const response = await app.request("/v1/runs");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="aat"');
    expect(await problemOf(response)).toEqual({
      type: "https://aat.dev/problems/unauthenticated",
      title: "Authentication required",
      status: 401,
      detail: "no credentials: send Authorization: Bearer <api key> (or X-API-Key: <api key>)",
      reason: "missing-credentials",
      instance: "/v1/runs",
    });
  });

  it("quotes the request id in the problem when one is set", async () => {
    const { store } = authFixture();
    const app = new Hono<{ Variables: AuthEnv["Variables"] & { requestId: string } }>();
    app.use("*", async (c, next) => {
      c.set("requestId", "req-5");
      await next();
    });
    app.use("*", authenticate({ keys: store, mode: "apiKey" }));
    app.get("/v1/runs", (c) => c.json([]));
    expect(await problemOf(await app.request("/v1/runs"))).toMatchObject({
      requestId: "req-5",
      instance: "/v1/runs",
    });
  });

  it("rejects an Authorization header that is not a bearer token", async () => {
    const { app } = await setup();
    const response = await app.request("/v1/runs", { headers: { authorization: "Basic dXNlcjpwdw==" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="aat", error="invalid_token"');
    const problem = await problemOf(response);
    expect(problem.reason).toBe("malformed-authorization");
    expect(problem.detail).toMatch(/must be "Bearer <token>"/);
  });

  it.each([
    ["malformed", "aat_x", /malformed: expected aat_<id>_<secret>/],
    ["unknown", `aat_0123456789abcdef_${"z".repeat(43)}`, /not known to this server/],
  ])("rejects a %s API key with that reason", async (reason, token, detail) => {
    const { app } = await setup();
    const response = await app.request("/v1/runs", bearer(token));
    expect(response.status).toBe(401);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ reason, credential: "apiKey", status: 401 });
    expect(problem.detail).toMatch(detail);
  });

  it("rejects revoked and expired keys with their own reasons", async () => {
    const { app, make, store, clock } = await setup();
    const revoked = await make(["viewer"]);
    await store.revoke(revoked.id, "test");
    const expiring = await make(["viewer"], "2026-01-01T00:10:00Z");
    clock.advance(600_000);
    const revokedProblem = await problemOf(await app.request("/v1/runs", bearer(revoked.key)));
    expect(revokedProblem).toMatchObject({ status: 401, reason: "revoked", title: "API key revoked" });
    const expiredProblem = await problemOf(await app.request("/v1/runs", bearer(expiring.key)));
    expect(expiredProblem).toMatchObject({ status: 401, reason: "expired", title: "API key expired" });
  });

  it("explains that JWTs are not accepted when no OIDC verifier is configured", async () => {
    const { app } = await setup();
    const problem = await problemOf(await app.request("/v1/runs", bearer("eyJhbGciOiJSUzI1NiJ9.e30.sig")));
    expect(problem).toMatchObject({ status: 401, reason: "unsupported-token" });
    expect(problem.detail).toMatch(/not an aat API key .* accepts no OIDC tokens/);
  });

  it("accepts a valid key as bearer or X-API-Key and sets the principal", async () => {
    const { app, make } = await setup();
    const created = await make(["analyst"]);
    const expected = { id: `key:${created.id}`, name: "analyst", roles: ["analyst"], via: "apiKey" };
    const viaBearer = await app.request("/v1/runs", bearer(created.key));
    expect(viaBearer.status).toBe(200);
    expect(await viaBearer.json()).toEqual(expected);
    const viaHeader = await app.request("/v1/runs", { headers: { "x-api-key": created.key } });
    expect(await viaHeader.json()).toEqual(expected);
    const garbage = await app.request("/v1/runs", { headers: { "x-api-key": "not-a-key" } });
    expect((await problemOf(garbage)).reason).toBe("malformed");
  });

  it("lets everyone in as an anonymous admin in mode none", async () => {
    const { store } = authFixture();
    const app = appWith({ keys: store, mode: "none" });
    const response = await app.request("/v1/runs");
    expect(await response.json()).toEqual({ id: "anonymous", roles: ["admin"], via: "none" });
    expect((await app.request("/v1/approvals", { method: "POST" })).status).toBe(200);
  });

  it('refuses mode "oidc" without a verifier at construction', () => {
    const { store } = authFixture();
    expect(() => authenticate({ keys: store, mode: "oidc" })).toThrow(/needs an OidcVerifier/);
  });
});

describe("requireRoles", () => {
  it("answers 403 naming the allowed roles and the caller's roles", async () => {
    const { app, make } = await setup();
    const viewer = await make(["viewer"]);
    const response = await app.request("/v1/approvals", { method: "POST", ...bearer(viewer.key) });
    expect(response.status).toBe(403);
    expect(await problemOf(response)).toEqual({
      type: "https://aat.dev/problems/forbidden",
      title: "Forbidden",
      status: 403,
      detail: `POST /v1/approvals allows roles responder, admin; key:${viewer.id} has roles viewer. Ask an admin for a key or token with one of the allowed roles.`,
      reason: "missing-role",
      allowedRoles: ["responder", "admin"],
      callerRoles: ["viewer"],
      instance: "/v1/approvals",
    });
  });

  it("lets a holder of an allowed role and an admin through", async () => {
    const { app, make } = await setup();
    const responder = await make(["responder"]);
    const admin = await make(["admin"]);
    expect((await app.request("/v1/approvals", { method: "POST", ...bearer(responder.key) })).status).toBe(
      200,
    );
    expect((await app.request("/v1/approvals", { method: "POST", ...bearer(admin.key) })).status).toBe(200);
    expect((await app.request("/v1/runs", bearer(admin.key))).status).toBe(200);
  });

  it("fails closed with 500 when mounted without authenticate", async () => {
    const app = new Hono<AuthEnv>();
    app.get("/x", requireRoles("viewer"), (c) => c.text("reached"));
    app.onError((error, c) => c.text(error.message, 500));
    const response = await app.request("/x");
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/requireRoles ran before authenticate/);
  });
});

describe("allows", () => {
  const principal = (roles: Principal["roles"]): Principal => ({ id: "p", roles, via: "apiKey" });
  it("passes admins always, others only with an allowed role, nobody without a principal", () => {
    expect(allows(principal(["admin"]), ["viewer"])).toBe(true);
    expect(allows(principal(["admin"]), [])).toBe(true);
    expect(allows(principal(["developer"]), ["developer", "analyst"])).toBe(true);
    expect(allows(principal(["viewer"]), ["developer"])).toBe(false);
    expect(allows(principal([]), ["viewer"])).toBe(false);
    expect(allows(undefined, ["viewer"])).toBe(false);
  });
});
