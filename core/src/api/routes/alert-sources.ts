import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import {
  ConfiguredSourceError,
  createSourceSchema,
  publicSource,
  SourceConflictError,
  type WebhookSource,
} from "../../workflows/alerts/sources.js";
import type { ApiApp, ApiContext } from "../context.js";
import type { ApiEnv } from "../deps.js";
import { allowRoles as allowRolesWithMiddleware, problems } from "../openapi-route.js";
import { ApiProblem, zodProblemErrors } from "../problem.js";

const rotateSchema = z.strictObject({
  secret: z.string().min(16).optional(),
  /** Keep the previous secret valid until the next rotation (default), so senders can switch over. */
  keepPrevious: z.boolean().default(true),
});

function route(method: "get" | "post", path: string, summary: string, status = 200) {
  return createRoute({
    method,
    path,
    tags: ["alerts"],
    summary,
    ...allowRoles(),
    responses: {
      [status]: { description: summary, content: { "application/json": { schema: z.unknown() } } },
      ...problems(401, 403, 404, 409, 422),
    },
  });
}

/** Sources are credentials: only admins manage them. */
/** The documented part of allowRoles: these routes are described to the registry, and guarded by requireRoles. */
function allowRoles(...roles: Parameters<typeof allowRolesWithMiddleware>) {
  const { middleware: _guard, ...described } = allowRolesWithMiddleware(...roles);
  return described;
}

export function registerAlertSourceRoutes(app: ApiApp, ctx: ApiContext): void {
  const admin = requireRoles();
  const sources = ctx.alerts.sources;
  app.openAPIRegistry.registerPath(
    route("post", "/v1/alert-sources", "Create a webhook source; the secret is shown once", 201),
  );
  app.openAPIRegistry.registerPath(
    route("get", "/v1/alert-sources", "List webhook sources (secrets by id only)"),
  );
  app.openAPIRegistry.registerPath(route("get", "/v1/alert-sources/{id}", "Read a webhook source"));
  app.openAPIRegistry.registerPath(
    route(
      "post",
      "/v1/alert-sources/{id}/rotate",
      "Rotate the secret (the previous stays valid until the next rotation unless keepPrevious is false)",
    ),
  );
  app.openAPIRegistry.registerPath(
    route("post", "/v1/alert-sources/{id}/disable", "Disable a source (deliveries get 403)"),
  );
  app.openAPIRegistry.registerPath(route("post", "/v1/alert-sources/{id}/enable", "Enable a source again"));

  app.post("/v1/alert-sources", admin, async (c) => {
    const input = parse(createSourceSchema, await jsonBody(c));
    c.set("audit", { target: `webhook-source:${input.id}` });
    try {
      const { source, secret } = await sources.create(input);
      return c.json({ source: publicSource(source), secret, test: `/v1/webhooks/${source.id}/test` }, 201);
    } catch (error) {
      if (error instanceof SourceConflictError)
        throw new ApiProblem(409, { kind: "conflict", detail: error.message });
      throw error;
    }
  });
  app.get("/v1/alert-sources", admin, async (c) =>
    c.json({ items: (await sources.list()).map(publicSource) }),
  );
  app.get("/v1/alert-sources/:id", admin, async (c) =>
    c.json(publicSource(await found(ctx, c.req.param("id")))),
  );
  app.post("/v1/alert-sources/:id/rotate", admin, async (c) => {
    const id = c.req.param("id");
    const body = parse(rotateSchema, (await jsonBody(c, true)) ?? {});
    c.set("audit", { target: `webhook-source:${id}`, details: { keepPrevious: body.keepPrevious } });
    const rotated = await guard(() =>
      sources.rotate(id, {
        keepPrevious: body.keepPrevious,
        ...(body.secret ? { secret: body.secret } : {}),
      }),
    );
    if (!rotated) throw notFound(id);
    return c.json({ source: publicSource(rotated.source), secret: rotated.secret });
  });
  for (const [action, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    app.post(`/v1/alert-sources/:id/${action}`, admin, async (c) => {
      const id = c.req.param("id");
      c.set("audit", { target: `webhook-source:${id}` });
      const source = await guard(() => sources.setDisabled(id, disabled));
      if (!source) throw notFound(id);
      return c.json(publicSource(source));
    });
  }
}

async function found(ctx: ApiContext, id: string): Promise<WebhookSource> {
  const source = await ctx.alerts.sources.get(id);
  if (!source) throw notFound(id);
  return source;
}

function notFound(id: string): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `no webhook source "${id}"; GET /v1/alert-sources lists them`,
  });
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ConfiguredSourceError)
      throw new ApiProblem(409, {
        kind: "config-source-read-only",
        detail: error.message,
        extra: { sourceId: error.sourceId, origin: "config" },
      });
    if (error instanceof SourceConflictError)
      throw new ApiProblem(409, { kind: "conflict", detail: error.message });
    throw error;
  }
}

export async function jsonBody(c: Context<ApiEnv>, optional = false): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "" && optional) return undefined;
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiProblem(415, {
      kind: "unsupported-media-type",
      detail: "send Content-Type: application/json",
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiProblem(400, {
      kind: "bad-request",
      detail: `the body is not valid JSON (${(error as Error).message})`,
    });
  }
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiProblem(422, {
      kind: "validation",
      detail: "the request body is invalid; errors names each field",
      errors: zodProblemErrors(result.error.issues),
    });
  }
  return result.data;
}
