import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { json, makeApi } from "./harness.js";

type Operation = { "x-aat-roles"?: string[]; security?: unknown[]; responses: Record<string, unknown> };

async function document(): Promise<Record<string, unknown>> {
  const api = await makeApi();
  const response = await api.app.request("/v1/openapi.json");
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function operations(doc: Record<string, unknown>): Array<[string, Operation]> {
  const out: Array<[string, Operation]> = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(item))
      out.push([`${method.toUpperCase()} ${path}`, operation]);
  }
  return out;
}

describe("GET /v1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without credentials", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("describes every route, each declaring the roles it allows", async () => {
    const doc = await document();
    const ops = operations(doc);
    expect(ops.map(([name]) => name).sort()).toEqual(
      [
        "DELETE /v1/keys/{id}",
        "GET /v1/alert-events",
        "GET /v1/alert-metrics",
        "GET /v1/alert-sources",
        "GET /v1/alert-sources/{id}",
        "GET /v1/alerts",
        "GET /v1/alerts/{id}",
        "GET /v1/webhooks/{sourceId}/test",
        "PATCH /v1/alerts/{id}",
        "POST /v1/alert-sources",
        "POST /v1/alert-sources/{id}/disable",
        "POST /v1/alert-sources/{id}/enable",
        "POST /v1/alert-sources/{id}/rotate",
        "POST /v1/alerts/{id}/notes",
        "POST /v1/webhooks/{sourceId}",
        "GET /healthz",
        "GET /readyz",
        "GET /v1/dead-letters",
        "GET /v1/keys",
        "GET /v1/plans",
        "GET /v1/plans/{id}",
        "GET /v1/plans/{id}/versions/{v}",
        "GET /v1/runs",
        "GET /v1/runs/{id}",
        "GET /v1/runs/{id}/events",
        "POST /v1/dead-letters/{id}/redrive",
        "POST /v1/hooks/{triggerId}",
        "POST /v1/keys",
        "POST /v1/mcp",
        "POST /v1/plans/dry-run",
        "POST /v1/plans/validate",
        "POST /v1/runs",
        "POST /v1/runs/{id}/cancel",
        "POST /v1/runs/{id}/steps/{stepId}/approve",
        "POST /v1/runs/{id}/steps/{stepId}/reject",
        "PUT /v1/plans/{id}",
      ].sort(),
    );
    for (const [name, operation] of ops) {
      expect(Array.isArray(operation["x-aat-roles"]), name).toBe(true);
      const roles = operation["x-aat-roles"]!;
      const open =
        name.includes("/hooks/") ||
        name === "POST /v1/webhooks/{sourceId}" ||
        name.includes("healthz") ||
        name.includes("readyz");
      if (open) {
        expect(roles, name).toEqual([]);
        expect(operation.security, name).toEqual([]);
      } else {
        expect(roles, name).toContain("admin");
        expect(Object.keys(operation.responses), name).toEqual(expect.arrayContaining(["401", "403"]));
      }
    }
    const approve = ops.find(([name]) => name.endsWith("/approve"))![1];
    expect(approve["x-aat-roles"]).toEqual(["responder", "admin"]);
    const schemes = (doc.components as { securitySchemes: Record<string, unknown> }).securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(["apiKeyHeader", "bearerAuth"]);
  });
});

describe("GET /healthz and /readyz", () => {
  it("reports the process up and the version, without credentials", async () => {
    const api = await makeApi();
    const { status, body } = await json(await api.app.request("/healthz"));
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok", version: "0.0.0-test" });
  });

  it("is ready when the KeyValue store and the queue answer", async () => {
    const api = await makeApi();
    const { status, body } = await json(await api.app.request("/readyz"));
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ready", checks: { kv: "ok", queue: "ok" } });
  });

  it("answers 503 naming what failed, keeping the failure's details in the log", async () => {
    const api = await makeApi();
    await api.queue.close();
    const { status, body, type } = await json(await api.app.request("/readyz"));
    expect(status).toBe(503);
    expect(type).toBe("application/problem+json");
    expect(body).toMatchObject({ status: 503, checks: { kv: "ok", queue: "failed" } });
    expect(body.detail).toMatch(/queue did not answer/);
    expect(api.logged[0]).toMatchObject({
      level: "warn",
      fields: { queue: expect.stringMatching(/closed/) },
    });
  });
});

describe("auth mode none", () => {
  it("lets every caller in as an admin", async () => {
    const api = await makeApi({ authMode: "none" });
    const { status } = await json(await api.app.request("/v1/runs"));
    expect(status).toBe(200);
  });
});
