import { type Context, Hono } from "hono";
import type { z } from "zod";
import { ApiKeyInputError, type ApiKeyStore, type CreatedApiKey } from "./api-key-store.js";
import type { AuditVariables } from "./audit-middleware.js";
import { apiKeyIdParamsSchema, createApiKeyRequestSchema } from "./keys-schemas.js";
import { type AuthVariables, requireRoles } from "./middleware.js";
import { problemResponse } from "./problem.js";

const PROBLEM_BASE = "https://aat.dev/problems/";

interface FieldError {
  path: string;
  message: string;
}

/**
 * POST/GET /v1/keys and DELETE /v1/keys/:id, admin only. Mount after `audit` and `authenticate` with
 * `app.route("/", keysRoutes(store))`. Problems follow the API's conventions: 400 for a body that is
 * not JSON or a malformed id, 422 with field paths for a body that does not validate, 404 for no such key.
 */
export function keysRoutes(store: ApiKeyStore) {
  const app = new Hono<{ Variables: AuthVariables & AuditVariables }>();
  app.use("/v1/keys", requireRoles("admin"));
  app.use("/v1/keys/*", requireRoles("admin"));

  app.post("/v1/keys", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, "bad-request", "Bad request", {
        detail: 'the request body is not JSON: send an object like {"name":"ci","roles":["developer"]}',
        errors: [{ path: "body", message: "not valid JSON" }],
      });
    }
    const parsed = createApiKeyRequestSchema.safeParse(body);
    if (!parsed.success) {
      return problem(c, 422, "validation", "Unprocessable content", {
        detail: "the request body does not describe an API key: see errors",
        errors: fieldErrors(parsed.error),
      });
    }
    let created: CreatedApiKey;
    try {
      created = await store.create({ ...parsed.data, createdBy: c.get("principal").id });
    } catch (error) {
      if (!(error instanceof ApiKeyInputError)) throw error;
      return problem(c, 422, "validation", "Unprocessable content", {
        detail: error.message,
        errors: error.path === undefined ? [] : [{ path: error.path, message: error.message }],
      });
    }
    c.set("audit", {
      target: `key:${created.id}`,
      details: { name: created.record.name, roles: created.record.roles },
    });
    // The response carries the only copy of the secret: keep it out of every cache.
    return c.json(created, 201, { "cache-control": "no-store" });
  });

  app.get("/v1/keys", async (c) => c.json({ keys: await store.list() }));

  app.delete("/v1/keys/:id", async (c) => {
    const params = apiKeyIdParamsSchema.safeParse({ id: c.req.param("id") });
    if (!params.success) {
      return problem(c, 400, "bad-request", "Bad request", {
        detail: "the key id is malformed: it is the part of the key between 'aat_' and the next '_'",
        errors: fieldErrors(params.error),
      });
    }
    const { id } = params.data;
    c.set("audit", { target: `key:${id}` });
    const revoked = await store.revoke(id, c.get("principal").id);
    if (revoked === undefined) {
      return problem(c, 404, "not-found", "Not found", {
        detail: `there is no API key with id "${id}": GET /v1/keys lists the ids`,
      });
    }
    return c.json(revoked, 200);
  });

  return app;
}

function problem(
  c: Context,
  status: 400 | 404 | 422,
  kind: string,
  title: string,
  init: { detail: string; errors?: FieldError[] },
): Response {
  return problemResponse(c, {
    type: `${PROBLEM_BASE}${kind}`,
    title,
    status,
    detail: init.detail,
    reason: kind,
    ...(init.errors === undefined ? {} : { errors: init.errors }),
  });
}

/** Field paths the way the API writes them: `roles[0]`, `expiresAt`. */
function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    let path = "";
    for (const part of issue.path) {
      path += typeof part === "number" ? `[${part}]` : path === "" ? String(part) : `.${String(part)}`;
    }
    return { path: path === "" ? "body" : path, message: issue.message };
  });
}
