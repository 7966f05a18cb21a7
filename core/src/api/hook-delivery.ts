import * as crypto from "node:crypto";
import type { AuditAnnotation } from "../auth/audit-middleware.js";
import { hashPayload } from "../dedupe/canonical-json.js";
import { TERMINAL_RUN_STATUSES } from "../graph/types.js";
import type { ApiContext } from "./context.js";
import { ApiProblem } from "./problem.js";
import { TRIGGER_ID_PATTERN } from "./schemas.js";
import { SIGNATURE_HEADER, verifyWebhookSignature } from "./webhook-signature.js";
import type { WebhookTrigger } from "./webhook-triggers.js";

/** Headers senders put their delivery id in, in the order they are looked at. */
export const DELIVERY_ID_HEADERS = ["X-AAT-Delivery", "X-GitHub-Delivery", "Idempotency-Key"] as const;

/** The route's audit action, as the audit middleware names it from the matched route. */
export const HOOK_AUDIT_ACTION = "POST /v1/hooks/:triggerId";

/**
 * One webhook delivery as the delivery logic needs it, free of any HTTP framework: the Hono route
 * (`POST /v1/hooks/:triggerId`) and the Node runtime's plain `node:http` handler in front of Hono both
 * describe their request this way, so both answer from the same code.
 */
export interface HookDeliveryRequest {
  /** The route's `:triggerId`, as routed. */
  triggerId: string;
  /** A request header by (any-case) name. */
  header(name: string): string | undefined;
  /** The exact body bytes (the signature covers them). */
  body(): Promise<Uint8Array>;
  requestId: string;
  principalId: string | undefined;
  /** Keeps the call's audit annotation (target, details, the entry stored with the run). */
  annotate(annotation: AuditAnnotation): void;
}

export interface HookDeliveryResult {
  runId: string;
  duplicate: boolean;
}

/**
 * Verifies, deduplicates and starts the run of one delivery; 202's body on success, an `ApiProblem`
 * thrown for every refusal (the caller renders it as problem+json).
 */
export async function deliverHook(
  ctx: ApiContext,
  request: HookDeliveryRequest,
): Promise<HookDeliveryResult> {
  const { deps } = ctx;
  // hookParamsSchema's check, without building a zod parse per delivery.
  const triggerId = request.triggerId;
  if (!TRIGGER_ID_PATTERN.test(triggerId)) throw noSuchTrigger(triggerId);
  const target = `hook:${triggerId}`;
  request.annotate({ target });

  const type = request.header("content-type") ?? "";
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

  const raw = await request.body();
  await checkSignature(ctx, request, trigger, raw);

  const input = parseJson(raw);
  ctx.inputs.check(plan.definition, plan.version, input);

  const deliveryId = deliveryIdOf(request) ?? `sha256:${sha256(raw)}`;
  const deliveryHash = sha256(`${triggerId}\n${deliveryId}`);
  // The run id follows from the delivery, so a repeat, a retry after a crash, or a copy racing this one
  // finds the same run: Runner.start is idempotent on the id (a compare-and-set on the run's first event).
  const runId = uuidFromHash(deliveryHash);
  // The audit entry of a delivery that starts a run is stored with the run (one atomic write, one round
  // trip on Redis); should the call end otherwise, the audit step records the real outcome in its place.
  const created = { runId, duplicate: false };
  const audit = deps.auditLog.prepare({
    who: request.principalId ?? "anonymous",
    action: HOOK_AUDIT_ACTION,
    target,
    result: "ok",
    status: 202,
    requestId: request.requestId,
    details: created,
  });
  request.annotate({ target, prepared: audit.entry });
  const started = await deps.runner.start({
    planId: plan.definition.id,
    version: plan.version,
    input,
    inputChecked: true,
    runId,
    records: [{ key: audit.key, value: audit.entry }],
  });
  if (started.created) {
    request.annotate({ target, details: created, prepared: audit.entry });
    return created;
  }
  // A repeat carries the same content: the run's input, compared as canonical JSON (so a sender that
  // re-serialises the same object is still a repeat, as with Powertools' payload validation).
  if (hashPayload(started.state.input) !== hashPayload(input)) {
    throw new ApiProblem(409, {
      kind: "delivery-id-reused",
      detail: `delivery id "${deliveryId}" was seen before with a different body; send a new delivery id for new content`,
    });
  }
  // The first copy may have stored the run and died before its first steps were enqueued: re-issue
  // them (queue dedupe ids make this harmless when they were enqueued after all).
  if (!TERMINAL_RUN_STATUSES.includes(started.state.status)) await deps.runner.reconcile(runId);
  const repeat = { runId, duplicate: true };
  request.annotate({ target, details: repeat });
  return repeat;
}

async function checkSignature(
  ctx: ApiContext,
  request: HookDeliveryRequest,
  trigger: WebhookTrigger,
  raw: Uint8Array,
): Promise<void> {
  const { deps } = ctx;
  const triggerId = request.triggerId;
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
        requestId: request.requestId,
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
  const check = verifyWebhookSignature(request.header(SIGNATURE_HEADER), secret, raw, {
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

function deliveryIdOf(request: HookDeliveryRequest): string | undefined {
  for (const header of DELIVERY_ID_HEADERS) {
    const value = request.header(header)?.trim();
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
