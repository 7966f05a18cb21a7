import { createRoute } from "@hono/zod-openapi";
import type { ApiKeyStore } from "../auth/api-key-store.js";
import { keysRoutes } from "../auth/keys-routes.js";
import {
  apiKeyIdParamsSchema,
  apiKeyListResponseSchema,
  createApiKeyRequestSchema,
  createdApiKeyResponseSchema,
  revokedApiKeyResponseSchema,
} from "../auth/keys-schemas.js";
import type { ApiApp } from "./context.js";
import { AUTHENTICATED, problems } from "./openapi-route.js";

/** The key routes are the auth module's own Hono app (admin only); mounted here behind authentication. */
export function mountKeyRoutes(app: ApiApp, keys: ApiKeyStore): void {
  app.route("/", keysRoutes(keys));
}

const adminOnly = { security: AUTHENTICATED, "x-aat-roles": ["admin"] };

/** Describes the mounted key routes in the OpenAPI document with the auth module's schemas. */
export function describeKeyRoutes(app: ApiApp): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/v1/keys",
      tags: ["keys"],
      summary: "Create an API key",
      description: "The full key is in this response only; it is stored hashed and never shown again.",
      ...adminOnly,
      request: {
        body: { required: true, content: { "application/json": { schema: createApiKeyRequestSchema } } },
      },
      responses: {
        201: {
          description: "Created.",
          content: { "application/json": { schema: createdApiKeyResponseSchema } },
        },
        ...problems(400, 401, 403, 413),
      },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/v1/keys",
      tags: ["keys"],
      summary: "List API keys (metadata only)",
      ...adminOnly,
      responses: {
        200: {
          description: "The keys.",
          content: { "application/json": { schema: apiKeyListResponseSchema } },
        },
        ...problems(401, 403),
      },
    }),
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "delete",
      path: "/v1/keys/{id}",
      tags: ["keys"],
      summary: "Revoke an API key",
      ...adminOnly,
      request: { params: apiKeyIdParamsSchema },
      responses: {
        200: {
          description: "Revoked.",
          content: { "application/json": { schema: revokedApiKeyResponseSchema } },
        },
        ...problems(400, 401, 403, 404),
      },
    }),
  );
}
