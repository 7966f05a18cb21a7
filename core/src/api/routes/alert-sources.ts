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
import { alertSourceListSchema, alertSourceSchema, alertSourceWithSecretSchema } from "./alert-schemas.js";

const rotateSchema = z
  .strictObject({
    secret: z.string().min(16).optional(),
    /** Keep the previous secret valid until the next rotation (default), so senders can switch over. */
    keepPrevious: z.boolean().default(true),
  })
  .meta({ id: "AlertSourceRotate" });

/** Sources are credentials: only admins manage them. */
/** The documented part of allowRoles: these routes are described to the registry, and guarded by requireRoles. */
function allowRoles(...roles: Parameters<typeof allowRolesWithMiddleware>) {
  const { middleware: _guard, ...described } = allowRolesWithMiddleware(...roles);
  return described;
}

export function registerAlertSourceRoutes(app: ApiApp, ctx: ApiContext): void {
  const admin = requireRoles();
  const sources = ctx.alerts.sources;
  const idParams = z.object({ id: z.string().meta({ description: "The source id." }) });
  const json = <S extends z.ZodType>(description: string, schema: S) => ({
    description,
    content: { "application/json": { schema } },
  });
  const sourceRoute = (
    method: "get" | "post",
    path: string,
    summary: string,
    description: string,
    response: z.ZodType,
    extra: { body?: z.ZodType; status?: 200 | 201; problems?: number[] } = {},
  ) =>
    createRoute({
      method,
      path,
      tags: ["alerts"],
      summary,
      description,
      ...allowRoles(),
      request: {
        ...(path.includes("{id}") ? { params: idParams } : {}),
        ...(extra.body
          ? {
              body: {
                required: method === "post" && !path.endsWith("/rotate"),
                content: { "application/json": { schema: extra.body } },
              },
            }
          : {}),
      },
      responses: {
        [extra.status ?? 200]: json(summary, response),
        ...problems(401, 403, ...(extra.problems ?? [])),
      },
    });
  const readOnly =
    " A source from configuration (origin config) answers 409 config-source-read-only: change it in alerts.sources.";
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "post",
      "/v1/alert-sources",
      "Create a webhook source; the secret is shown once",
      "Admins only. The secret is generated unless given; 409 when the id is taken (by an API or a configured source).",
      alertSourceWithSecretSchema,
      {
        body: createSourceSchema.meta({ id: "AlertSourceCreate" }),
        status: 201,
        problems: [400, 409, 415, 422],
      },
    ),
  );
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "get",
      "/v1/alert-sources",
      "List webhook sources (secrets by id only)",
      "API sources and those from configuration (origin config), by id.",
      alertSourceListSchema,
    ),
  );
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "get",
      "/v1/alert-sources/{id}",
      "Read a webhook source",
      "Secrets by id and age only.",
      alertSourceSchema,
      {
        problems: [404],
      },
    ),
  );
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "post",
      "/v1/alert-sources/{id}/rotate",
      "Rotate the secret",
      `The previous secret stays valid until the next rotation unless keepPrevious is false; the new one is shown once.${readOnly}`,
      alertSourceWithSecretSchema,
      { body: rotateSchema, problems: [400, 404, 409, 415, 422] },
    ),
  );
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "post",
      "/v1/alert-sources/{id}/disable",
      "Disable a source (deliveries get 403)",
      `Deliveries are refused with 403 until it is enabled again.${readOnly}`,
      alertSourceSchema,
      { problems: [404, 409] },
    ),
  );
  app.openAPIRegistry.registerPath(
    sourceRoute(
      "post",
      "/v1/alert-sources/{id}/enable",
      "Enable a source again",
      readOnly.trim(),
      alertSourceSchema,
      {
        problems: [404, 409],
      },
    ),
  );

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
