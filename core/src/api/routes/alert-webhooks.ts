import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import { AlertIngestError } from "../../workflows/alerts/ingest.js";
import { DEFAULT_API_KEY_HEADER, GITHUB_SIGNATURE_HEADER } from "../../workflows/alerts/verify.js";
import type { ApiApp, ApiContext } from "../context.js";
import type { ApiEnv } from "../deps.js";
import { allowRoles as allowRolesWithMiddleware, PUBLIC, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import { SIGNATURE_FORM, SIGNATURE_HEADER } from "../webhook-signature.js";
import { webhookDeliverySchema, webhookTestSchema } from "./alert-schemas.js";

const params = z.object({ sourceId: z.string().min(1).max(63) });

const ingestRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/{sourceId}",
  tags: ["alerts"],
  summary: "Deliver alerts from a configured source",
  description: `Verifies the delivery with the source's auth mode (hmac: ${SIGNATURE_HEADER}: ${SIGNATURE_FORM}; github: ${GITHUB_SIGNATURE_HEADER}; bearer; basic; api_key: ${DEFAULT_API_KEY_HEADER} or the source's header), maps it with the source's format into OCSF Detection Findings, deduplicates by fingerprint and starts a triage run per new alert. 202 only once every alert is stored and its run enqueued; a refused delivery stores nothing.`,
  ...PUBLIC,
  request: {
    params,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.unknown().meta({
            description:
              "The product's payload as it sends it (see the source's format; samples in examples/alerts/). Suricata sources also take application/x-ndjson.",
          }),
        },
      },
    },
  },
  responses: {
    202: {
      description: "Stored; triage runs enqueued.",
      content: {
        "application/json": {
          schema: webhookDeliverySchema,
        },
      },
    },
    ...problems(400, 401, 403, 404, 413, 415, 422, 503),
  },
});

const testRoute = createRoute({
  method: "get",
  path: "/v1/webhooks/{sourceId}/test",
  tags: ["alerts"],
  summary: "How to send a signed delivery to this source (a curl example)",
  ...allowRoles("responder"),
  request: { params },
  responses: {
    200: { description: "Instructions.", content: { "application/json": { schema: webhookTestSchema } } },
    ...problems(401, 403, 404),
  },
});

/** The documented part of allowRoles: these routes are described to the registry, and guarded by requireRoles. */
function allowRoles(...roles: Parameters<typeof allowRolesWithMiddleware>) {
  const { middleware: _guard, ...described } = allowRolesWithMiddleware(...roles);
  return described;
}

export function registerAlertWebhookRoutes(app: ApiApp, ctx: ApiContext): void {
  // The signature covers the exact body bytes: the raw body is read here, not through the JSON validator.
  app.openAPIRegistry.registerPath(ingestRoute);
  app.openAPIRegistry.registerPath(testRoute);
  app.post("/v1/webhooks/:sourceId", (c) => ingest(c, ctx));
  app.get("/v1/webhooks/:sourceId/test", requireRoles("responder"), (c) => howToSign(c, ctx));
}

async function ingest(c: Context<ApiEnv>, ctx: ApiContext): Promise<Response> {
  const sourceId = c.req.param("sourceId") ?? "";
  c.set("audit", { target: `webhook-source:${sourceId}` });
  try {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const result = await ctx.alerts.ingestor.ingest({ sourceId, header: (name) => c.req.header(name), body });
    c.set("audit", {
      target: `webhook-source:${sourceId}`,
      details: {
        alerts: result.alerts.map((a) => ({
          id: a.id,
          duplicate: a.duplicate,
          ...(a.runId ? { runId: a.runId } : {}),
        })),
      },
    });
    return c.json({ source: sourceId, accepted: result.alerts.length, alerts: result.alerts }, 202);
  } catch (error) {
    if (error instanceof AlertIngestError) {
      throw new ApiProblem(error.status, {
        kind: error.reason.replaceAll("_", "-"),
        detail: error.message,
        extra: { reason: error.reason },
        ...(error.extra.path ? { errors: [{ path: error.extra.path, message: error.message }] } : {}),
        ...(error.extra.challenge ? { headers: { "www-authenticate": error.extra.challenge } } : {}),
      });
    }
    throw error;
  }
}

async function howToSign(c: Context<ApiEnv>, ctx: ApiContext): Promise<Response> {
  const sourceId = c.req.param("sourceId") ?? "";
  const source = await ctx.alerts.sources.get(sourceId);
  if (!source)
    throw new ApiProblem(404, {
      kind: "not-found",
      detail: `no webhook source "${sourceId}"; GET /v1/alert-sources lists them`,
    });
  const origin = new URL(c.req.url).origin;
  const url = `${origin}/v1/webhooks/${source.id}`;
  const body = "@examples/alerts/" + source.format + ".json";
  const lines: Record<string, string[]> = {
    hmac: [
      'SECRET="<the source secret>"; BODY="$(cat examples/alerts/' + source.format + '.json)"; T=$(date +%s)',
      `SIG=$(printf '%s.%s' "$T" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')`,
      `curl -sS -X POST '${url}' -H 'Content-Type: application/json' -H "${SIGNATURE_HEADER}: t=$T,v1=$SIG" --data-binary "$BODY"`,
    ],
    github: [
      'SECRET="<the source secret>"; BODY="$(cat examples/alerts/' + source.format + '.json)"',
      `SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')`,
      `curl -sS -X POST '${url}' -H 'Content-Type: application/json' -H "${GITHUB_SIGNATURE_HEADER}: sha256=$SIG" --data-binary "$BODY"`,
    ],
    bearer: [
      `curl -sS -X POST '${url}' -H 'Content-Type: application/json' -H 'Authorization: Bearer <the source token>' --data-binary ${body}`,
    ],
    basic: [
      `curl -sS -X POST '${url}' -u '${source.auth.username ?? "<user>"}:<the source secret>' -H 'Content-Type: application/json' --data-binary ${body}`,
    ],
    api_key: [
      `curl -sS -X POST '${url}' -H 'Content-Type: application/json' -H '${source.auth.header ?? DEFAULT_API_KEY_HEADER}: <the source key>' --data-binary ${body}`,
    ],
  };
  const how: Record<string, string> = {
    hmac: `Header ${SIGNATURE_HEADER}: ${SIGNATURE_FORM}. The timestamp must be within ${Math.round((source.toleranceMs ?? ctx.deps.config.limits.webhookReplayWindowMs) / 1000)} s of the server's clock and each signature is accepted once.`,
    github: `Header ${GITHUB_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body keyed with the secret> (what GitHub sends).`,
    bearer: "Header Authorization: Bearer <token>.",
    basic: "HTTP basic auth with the source's username and its secret as password.",
    api_key: `Header ${source.auth.header ?? DEFAULT_API_KEY_HEADER}: <key> (an EventBridge API destination connection of type API key).`,
  };
  return c.json({
    source: source.id,
    format: source.format,
    url,
    auth: source.auth.mode,
    how: how[source.auth.mode],
    activeSecrets: source.secrets.length,
    curl: lines[source.auth.mode]!.join("\n"),
    sample: `examples/alerts/${source.format}.json`,
  });
}
