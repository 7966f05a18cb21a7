import { createHash, timingSafeEqual } from "node:crypto";
import type { MessageAttributes, Queue, QueueMessage, Runner, WorkMessage } from "@aat/core";
import { PushedDeliveryQueue } from "@aat/functions-serverless/pushed-settlement";
import { type CloudEventV1, HTTP, ValidationError } from "cloudevents";
import { Hono } from "hono";

/** Where Knative Eventing (a Trigger's subscriber or a Subscription) delivers step messages. */
export const CLOUDEVENTS_STEPS_PATH = "/v1/cloudevents/steps";
/** The CloudEvent type of an aat step message; its data is the WorkMessage as JSON. */
export const STEP_EVENT_TYPE = "dev.aat.step";
/** Receipts of CloudEvent deliveries start with this: the HTTP answer settles them, not the queue. */
const RECEIPT_PREFIX = "cloudevent:";

/**
 * The step queue with CloudEvent deliveries beside the queue's own (the shared PushedDeliveryQueue of
 * functions/serverless): a delivery received over HTTP has a `cloudevent:` receipt and is settled by the
 * answer to the request (Knative Eventing retries on an error status and sends to the Trigger's
 * deadLetterSink when it gives up), so the Runner's calls on it are recorded instead of sent to the
 * queue. Everything else goes to the queue unchanged.
 */
export class CloudEventSettlementQueue extends PushedDeliveryQueue {
  constructor(inner: Queue<WorkMessage>) {
    super(inner, { receiptPrefix: RECEIPT_PREFIX });
  }
}

export interface CloudEventsReceiverOptions {
  runner: Pick<Runner, "handle" | "heartbeat">;
  settlement: CloudEventSettlementQueue;
  logger?: { warn(fields: object, message: string): void; error(fields: object, message: string): void };
  /** Renew a running step's claim this often (default 10 s). */
  heartbeatMs?: number;
  /**
   * Who may push step messages (server.cloudEventsToken, server.cloudEventsClusterLocal): with a token,
   * only requests bearing it; without one, anyone only when the Service is declared cluster-local, else
   * nobody (401 saying what to configure).
   */
  auth: CloudEventsAuth;
}

export interface CloudEventsAuth {
  token?: string | undefined;
  clusterLocal?: boolean | undefined;
}

/**
 * Whether a request may push a step message: undefined when it may, else why not. The token is compared
 * through SHA-256 digests with timingSafeEqual, so the comparison time says nothing about the token.
 */
function refusal(auth: CloudEventsAuth, authorization: string | undefined): string | undefined {
  if (auth.token === undefined) {
    return auth.clusterLocal
      ? undefined
      : "step messages are not accepted: set server.cloudEventsToken (AAT_SERVER_CLOUDEVENTS_TOKEN) and send it as `Authorization: Bearer <token>`, or, when the Knative Service is cluster-local, set server.cloudEventsClusterLocal (AAT_SERVER_CLOUDEVENTS_CLUSTER_LOCAL=true)";
  }
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
  if (!match) return "send the shared token as `Authorization: Bearer <token>` (server.cloudEventsToken)";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(match[1]!.trim()), digest(auth.token))
    ? undefined
    : "the bearer token is not server.cloudEventsToken";
}

/**
 * POST /v1/cloudevents/steps: one step message per CloudEvent, in structured mode
 * (`application/cloudevents+json`) or binary mode (`ce-*` headers, the WorkMessage as a JSON body), parsed
 * by the `cloudevents` SDK, from a sender `auth` allows (else 401). The Runner handles it and the answer
 * settles it:
 * - 200: done (acked) — Knative Eventing delivers it no more;
 * - 503 with Retry-After: the Runner asked for a retry — Knative retries with the Trigger's backoff;
 * - 422 with the reason: the Runner dead-lettered it — Knative does not retry a 422 and hands it to the
 *   deadLetterSink;
 * - 400 with the reason: not a CloudEvent, a batch, the wrong type, or data that is not a JSON object;
 * - 500: handling failed (storage down) — Knative retries.
 * Extension attributes: `traceparent` (the Distributed Tracing extension) and `aatdedupeid` are passed to
 * the Runner as the message's trace context and dedupe id. The delivery count is 1: Knative does not say
 * which attempt this is, its retry limit stands in for maxDeliveries.
 */
export function createCloudEventsReceiver(options: CloudEventsReceiverOptions): Hono {
  const app = new Hono();
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  app.post(CLOUDEVENTS_STEPS_PATH, async (c) => {
    const refused = refusal(options.auth, c.req.header("authorization"));
    if (refused) {
      c.header("WWW-Authenticate", 'Bearer realm="aat-cloudevents"');
      return c.json({ error: "unauthorized", reason: refused }, 401);
    }
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const body = await c.req.text();
    let parsed: ReturnType<typeof HTTP.toEvent>;
    try {
      parsed = HTTP.toEvent({ headers, body });
    } catch (error) {
      return c.json({ error: "bad_cloudevent", reason: reasonOf(error) }, 400);
    }
    if (Array.isArray(parsed)) {
      return c.json(
        {
          error: "bad_cloudevent",
          reason: "batched CloudEvents are not accepted: deliver one step message per request",
        },
        400,
      );
    }
    const event = parsed as CloudEventV1<unknown>;
    if (event.type !== STEP_EVENT_TYPE) {
      return c.json(
        {
          error: "bad_cloudevent",
          reason: `type must be ${STEP_EVENT_TYPE} (got ${event.type}): only aat step messages are accepted here`,
        },
        400,
      );
    }
    const data = typeof event.data === "string" ? tryJson(event.data) : event.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      return c.json(
        {
          error: "bad_cloudevent",
          reason: "data must be the step message as a JSON object (datacontenttype application/json)",
        },
        400,
      );
    }
    const attributes: MessageAttributes = {};
    if (typeof event.traceparent === "string") attributes.traceparent = event.traceparent;
    if (typeof event.tracestate === "string") attributes.tracestate = event.tracestate;
    const message: QueueMessage<WorkMessage> = {
      id: event.id,
      body: data as WorkMessage,
      attributes,
      ...(typeof event.aatdedupeid === "string" ? { dedupeId: event.aatdedupeid } : {}),
      deliveryCount: 1,
      publishedAt: event.time ? Date.parse(event.time) || Date.now() : Date.now(),
      receipt: options.settlement.newReceipt(),
    };
    const heartbeat = setInterval(() => {
      options.runner.heartbeat(message).catch((error: Error) => {
        options.logger?.warn({ messageId: message.id, error: error.message }, "claim renewal failed");
      });
    }, heartbeatMs);
    let outcome: string;
    try {
      outcome = await options.runner.handle(message);
    } catch (error) {
      options.settlement.takeSettled(message.receipt);
      options.logger?.error(
        { messageId: message.id, error: reasonOf(error) },
        "cloudevents: handling failed; the sender retries",
      );
      return c.json({ error: "handling_failed", reason: reasonOf(error) }, 500);
    } finally {
      clearInterval(heartbeat);
    }
    const settled = options.settlement.takeSettled(message.receipt);
    switch (settled?.kind) {
      case "ack":
        return c.json({ outcome }, 200);
      case "deadLetter":
        return c.json({ outcome, error: "dead_lettered", reason: settled.reason }, 422);
      case "retry":
        c.header("Retry-After", String(Math.max(1, Math.ceil(settled.delayMs / 1000))));
        return c.json({ outcome, error: "retry_later" }, 503);
      default:
        return c.json({ outcome, error: "not_settled" }, 500);
    }
  });
  return app;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof ValidationError) {
    const details = Array.isArray(error.errors)
      ? error.errors.map((one) => JSON.stringify(one)).join("; ")
      : "";
    return `not a valid CloudEvent: ${error.message}${details ? ` (${details})` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}
