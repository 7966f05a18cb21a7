import * as crypto from "node:crypto";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { hashPayload } from "../../dedupe/canonical-json.js";
import { type RunState, TERMINAL_RUN_STATUSES } from "../../graph/types.js";
import type { ApiApp, ApiContext } from "../context.js";
import type { ApiEnv } from "../deps.js";
import { PUBLIC, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import { hookParamsSchema, hookResponseSchema, TRIGGER_ID_PATTERN } from "../schemas.js";
import { SIGNATURE_FORM, SIGNATURE_HEADER, verifyWebhookSignature } from "../webhook-signature.js";
import type { WebhookTrigger } from "../webhook-triggers.js";

/** Headers senders put their delivery id in, in the order they are looked at. */
export const DELIVERY_ID_HEADERS = ["X-AAT-Delivery", "X-GitHub-Delivery", "Idempotency-Key"] as const;

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

async function handleHook(c: Context<ApiEnv>, ctx: ApiContext): Promise<Response> {
  const { deps } = ctx;
  // hookParamsSchema's check, without building a zod parse per delivery.
  const triggerId = c.req.param("triggerId") ?? "";
  if (!TRIGGER_ID_PATTERN.test(triggerId)) throw noSuchTrigger(triggerId);
  c.set("audit", { target: `hook:${triggerId}` });

  const type = c.req.header("content-type") ?? "";
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiProblem(415, {
      kind: "unsupported-media-type",
      detail: `webhooks must be JSON: send Content-Type: application/json (got ${type === "" ? "none" : JSON.stringify(type)})`,
    });
  }

  const lookup = await ctx.triggers.find(triggerId);
  if (lookup.found === false) throw noSuchTrigger(triggerId);
  if (lookup.found === "ambiguous") {
    throw new ApiProblem(409, {
      kind: "ambiguous-trigger",
      detail: `webhook trigger "${triggerId}" is declared by several plans (${lookup.planIds.join(", ")}); give each trigger a distinct id`,
    });
  }
  const { plan, trigger } = lookup;

  const raw = new Uint8Array(await c.req.arrayBuffer());
  await checkSignature(c, ctx, triggerId, trigger, raw);

  const input = parseJson(raw);
  ctx.inputs.check(plan.definition, plan.version, input);

  const bodyHash = sha256(raw);
  const deliveryId = deliveryIdOf(c) ?? `sha256:${bodyHash}`;
  const deliveryHash = sha256(`${triggerId}\n${deliveryId}`);
  // The run id follows from the delivery, so a repeat, a retry after a crash, or a copy racing this one
  // finds the same run: Runner.start is idempotent on the id (a compare-and-set on the run's first event).
  // The delivery record is stored in the same atomic write as the run (one round trip on Redis); it
  // remembers the body's hash so a reused delivery id with another body is refused.
  const runId = uuidFromHash(deliveryHash);
  const recordKey = deliveryRecordKey(triggerId, deliveryHash);
  const record: DeliveryRecord = { runId, bodyHash };
  // The audit entry of a delivery that starts a run is stored with the run too (no write of its own);
  // should the call end otherwise, the audit middleware records the real outcome in its place.
  const target = `hook:${triggerId}`;
  const audit = deps.auditLog.prepare({
    who: c.get("principal")?.id ?? "anonymous",
    action: "POST /v1/hooks/:triggerId",
    target,
    result: "ok",
    status: 202,
    requestId: c.get("requestId"),
    details: { runId, duplicate: false },
  });
  c.set("audit", { target, prepared: audit.entry });
  const started = await deps.runner.start({
    planId: plan.definition.id,
    version: plan.version,
    input,
    inputChecked: true,
    runId,
    records: [
      {
        key: recordKey,
        value: record,
        options: { ttlMs: deps.config.limits.dedupeWindowMs, unlisted: true },
      },
      { key: audit.key, value: audit.entry },
    ],
  });
  if (started.created) {
    c.set("audit", { target, details: { runId, duplicate: false }, prepared: audit.entry });
    return c.json({ runId, duplicate: false }, 202);
  }
  if (!(await sameDelivery(ctx, recordKey, bodyHash, started.state, input))) {
    throw new ApiProblem(409, {
      kind: "delivery-id-reused",
      detail: `delivery id "${deliveryId}" was seen before with a different body; send a new delivery id for new content`,
    });
  }
  // The first copy may have stored the run and died before its first steps were enqueued: re-issue
  // them (queue dedupe ids make this harmless when they were enqueued after all).
  if (!TERMINAL_RUN_STATUSES.includes(started.state.status)) await deps.runner.reconcile(runId);
  c.set("audit", { target, details: { runId, duplicate: true } });
  return c.json({ runId, duplicate: true }, 202);
}

/** What a delivery leaves besides its run, for `limits.dedupeWindowMs`. */
interface DeliveryRecord {
  runId: string;
  bodyHash: string;
}

function deliveryRecordKey(triggerId: string, deliveryHash: string): string {
  return `hooks/deliveries/${triggerId}/${deliveryHash}`;
}

/**
 * Whether a delivery whose run exists repeats the one that started it: the same body (by the delivery
 * record's hash), or, once that record has expired, the same input as the run's.
 */
async function sameDelivery(
  ctx: ApiContext,
  recordKey: string,
  bodyHash: string,
  run: RunState,
  input: Record<string, unknown>,
): Promise<boolean> {
  const stored = (await ctx.deps.kv.get<Partial<DeliveryRecord>>(recordKey))?.value;
  if (typeof stored?.bodyHash === "string") return stored.bodyHash === bodyHash;
  return hashPayload(run.input) === hashPayload(input);
}

async function checkSignature(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  triggerId: string,
  trigger: WebhookTrigger,
  raw: Uint8Array,
): Promise<void> {
  const { deps } = ctx;
  if (trigger.secret === undefined) {
    if (deps.config.auth.allowUnsignedWebhooks) return;
    throw new ApiProblem(401, {
      kind: "unsigned-webhook",
      detail: `webhook trigger "${triggerId}" names no secret and this server does not accept unsigned webhooks: add \`secret: <name>\` to the trigger and configure that secret (AAT_SECRET_<NAME>), then sign deliveries with ${SIGNATURE_HEADER}; or set AAT_AUTH_ALLOW_UNSIGNED_WEBHOOKS=true to accept unsigned ones`,
    });
  }
  const secret = await deps.secrets.get(trigger.secret);
  if (secret === undefined) {
    ctx.logger.error(
      {
        requestId: c.get("requestId"),
        triggerId,
        secret: trigger.secret,
        where: deps.secrets.describe?.(trigger.secret) ?? "the secrets store",
      },
      "webhook secret is not configured",
    );
    throw new ApiProblem(503, {
      kind: "webhook-secret-missing",
      detail: `webhook trigger "${triggerId}" cannot verify deliveries: its secret is not configured on the server (the operator must set it; see the server log)`,
    });
  }
  const check = verifyWebhookSignature(c.req.header(SIGNATURE_HEADER), secret, raw, {
    now: deps.clock.now(),
    replayWindowMs: deps.config.limits.webhookReplayWindowMs,
  });
  if (!check.ok) {
    throw new ApiProblem(401, {
      kind: "bad-signature",
      detail: check.detail,
      extra: { reason: check.reason },
      headers: { "www-authenticate": 'AAT-HMAC-SHA256 header="X-AAT-Signature"' },
    });
  }
}

function deliveryIdOf(c: Context): string | undefined {
  for (const header of DELIVERY_ID_HEADERS) {
    const value = c.req.header(header)?.trim();
    if (value) return value.slice(0, 500);
  }
  return undefined;
}

/** One decoder for all deliveries: a decode without `stream` starts afresh each time. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(raw: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch (error) {
    throw new ApiProblem(400, {
      kind: "bad-request",
      detail: `the body is not valid JSON (${error instanceof Error ? error.message : String(error)}): send a JSON object`,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiProblem(422, {
      kind: "validation",
      detail: "the body must be a JSON object: it becomes the run's input",
      errors: [
        {
          path: "body",
          message: `expected an object, got ${Array.isArray(value) ? "an array" : typeof value}`,
        },
      ],
    });
  }
  return value as Record<string, unknown>;
}

function noSuchTrigger(triggerId: string): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `no plan has a webhook trigger "${triggerId}": add \`triggers: [{ type: webhook, id: ${triggerId} }]\` to a plan and publish it`,
  });
}

/** crypto.hash (Node 20.12+, 21.7+): a one-shot digest without a Hash object per call. */
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: "hex") => string }
).hash;

function sha256(data: string | Uint8Array): string {
  if (oneShotHash) return oneShotHash("sha256", data, "hex");
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** A UUID-shaped id (version 8, "custom") carrying the first 122 bits of a hash. */
export function uuidFromHash(hex: string): string {
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
