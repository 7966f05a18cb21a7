import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { ApiApp, ApiContext } from "../context.js";
import type { ApiEnv } from "../deps.js";
import { DELIVERY_ID_HEADERS, deliverHook } from "../hook-delivery.js";
import { PUBLIC, problems } from "../openapi-route.js";
import { hookParamsSchema, hookResponseSchema } from "../schemas.js";
import { SIGNATURE_FORM, SIGNATURE_HEADER } from "../webhook-signature.js";

export { DELIVERY_ID_HEADERS, uuidFromHash } from "../hook-delivery.js";

const hookRoute = createRoute({
  method: "post",
  path: "/v1/hooks/{triggerId}",
  tags: ["hooks"],
  summary: "Deliver a webhook to a plan's trigger",
  description: `Starts a run of the plan whose current version declares \`triggers: [{ type: webhook, id: <triggerId> }]\` (id defaults to the plan id), with the JSON body as input. A trigger with \`secret: <name>\` requires header ${SIGNATURE_HEADER}: ${SIGNATURE_FORM}, within the replay window. Deliveries are deduplicated on ${DELIVERY_ID_HEADERS.join(", ")} or else the body's hash: a repeat answers 202 with the same runId. 202 means the run is stored and its first steps queued.`,
  ...PUBLIC,
  request: {
    params: hookParamsSchema,
    headers: z.object({
      "x-aat-signature": z.string().optional().meta({ description: SIGNATURE_FORM }),
      "x-aat-delivery": z.string().optional().meta({ description: "The sender's delivery id (dedupe key)." }),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.record(z.string(), z.unknown()).meta({ description: "The run input." }),
        },
      },
    },
  },
  responses: {
    202: {
      description: "The run is stored and enqueued.",
      content: { "application/json": { schema: hookResponseSchema } },
    },
    ...problems(400, 401, 404, 409, 413, 415, 422, 503),
  },
});

export function registerHookRoutes(app: ApiApp, ctx: ApiContext): void {
  // The signature covers the exact body bytes, so this route reads the raw body itself: it is only
  // described to the OpenAPI registry, not wrapped in its JSON validator.
  app.openAPIRegistry.registerPath(hookRoute);
  app.post("/v1/hooks/:triggerId", (c) => handleHook(c, ctx));
}

/** The Hono side of a delivery: its request described for `deliverHook`, the answer as JSON. */
async function handleHook(c: Context<ApiEnv>, ctx: ApiContext): Promise<Response> {
  const result = await deliverHook(ctx, {
    triggerId: c.req.param("triggerId") ?? "",
    header: (name) => c.req.header(name),
    body: async () => new Uint8Array(await c.req.arrayBuffer()),
    requestId: c.get("requestId"),
    principalId: c.get("principal")?.id,
    annotate: (annotation) => c.set("audit", annotation),
  });
  return c.json(result, 202);
}
