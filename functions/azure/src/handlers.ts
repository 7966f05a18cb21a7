import { randomUUID } from "node:crypto";
import { PROPERTY } from "@aat/adapter-servicebus";
import type { MessageAttributes, QueueMessage, TickFiring, WorkMessage } from "@aat/core";
import { installZodDefaults } from "@aat/core/zod-defaults";
import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import * as z from "zod/mini";
import { type AzureRuntime, workerRuntime } from "./runtime.js";
import { TRIGGER_RECEIPT_PREFIX } from "./settlement.js";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

type Get = () => Promise<AzureRuntime>;

/**
 * app.http: every request into the Hono app (`/v1/...` as `npm start` serves it; host.json sets the route
 * prefix to "" so paths are unchanged). Server-sent event streams are passed through as a stream.
 */
export function createHttpHandler(get: Get = () => workerRuntime()) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const runtime = await get();
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const headers = new Headers();
    for (const [name, value] of request.headers) headers.append(name, value);
    if (!headers.has("x-request-id")) headers.set("x-request-id", context.invocationId);
    const response = await runtime.app.fetch(
      new Request(request.url, {
        method: request.method,
        headers,
        ...(hasBody ? { body: new Uint8Array(await request.arrayBuffer()) } : {}),
      }),
    );
    const streaming = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
    return {
      status: response.status,
      headers: response.headers,
      body: streaming && response.body ? response.body : new Uint8Array(await response.arrayBuffer()),
    };
  };
}

/** What the Service Bus trigger puts in `context.triggerMetadata` (the fields the worker reads). */
const serviceBusMetadata = z.object({
  messageId: z.string().check(z.minLength(1)),
  deliveryCount: z.coerce.number().check(z.int(), z.positive()),
  enqueuedTimeUtc: z.optional(z.union([z.string(), z.date()])),
  applicationProperties: z.nullish(z.record(z.string(), z.unknown())),
  userProperties: z.nullish(z.record(z.string(), z.unknown())),
});

/**
 * app.serviceBusQueue: one step message per invocation, handled by the Runner. Settlement (the host
 * completes on return and abandons on a throw, with autoCompleteMessages on):
 * - the Runner acked → return: completed, never delivered again;
 * - it nacked, left it unsettled, or handling failed → throw: abandoned, delivered again with a higher
 *   delivery count, moved to the dead-letter sub-queue by the broker after MaxDeliveryCount;
 * - it dead-lettered → throw with the reason (logged): the broker dead-letters it after MaxDeliveryCount.
 * A message whose metadata is not a Service Bus trigger's is refused with a clear error (retried, then
 * dead-lettered by the broker); a body that is not a step message is the Runner's to dead-letter.
 */
export function createWorkerHandler(
  get: Get = () => workerRuntime(),
  options: { heartbeatMs?: number } = {},
) {
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const runtime = await get();
    const { logger, queue, runner } = runtime;
    const meta = serviceBusMetadata.safeParse(context.triggerMetadata ?? {});
    if (!meta.success) {
      const problem = `worker: not a Service Bus trigger invocation (triggerMetadata: ${z.prettifyError(meta.error)}); bind the function to the step queue with app.serviceBusQueue`;
      logger.error({ invocationId: context.invocationId }, problem);
      throw new TypeError(problem);
    }
    const delivery = toDelivery(message, meta.data);
    const heartbeat = setInterval(() => {
      runner
        .heartbeat(delivery)
        .catch((error: Error) =>
          logger.warn({ messageId: delivery.id, error: error.message }, "claim renewal failed"),
        );
    }, heartbeatMs);
    let outcome: string;
    try {
      outcome = await runner.handle(delivery);
    } catch (error) {
      queue.takeSettled(delivery.receipt);
      logger.error(
        { messageId: delivery.id, error },
        "worker: handling failed; abandoned, Service Bus delivers it again",
      );
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
    const settled = queue.takeSettled(delivery.receipt);
    logger.info(
      { messageId: delivery.id, runId: delivery.body?.runId, outcome, settled: settled?.kind ?? "none" },
      "step message handled",
    );
    if (settled?.kind === "ack") return;
    if (settled?.kind === "deadLetter") {
      throw new Error(
        `step message ${delivery.id} must be dead-lettered (${settled.reason}); abandoned until the queue's MaxDeliveryCount moves it to the dead-letter sub-queue`,
      );
    }
    throw new Error(`step message ${delivery.id} ${outcome}: not completed, Service Bus delivers it again`);
  };
}

/** The trigger's message as the QueueMessage the Runner handles (the adapter's property names). */
function toDelivery(message: unknown, meta: z.output<typeof serviceBusMetadata>): QueueMessage<WorkMessage> {
  const props = meta.applicationProperties ?? meta.userProperties ?? {};
  const own = new Set<string>(Object.values(PROPERTY));
  const attributes: MessageAttributes = {};
  for (const [name, value] of Object.entries(props)) {
    if (!own.has(name) && value !== null && value !== undefined) attributes[name] = String(value);
  }
  let body = message;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // Left as text: the Runner dead-letters a body that is not a step message, with the reason.
    }
  }
  const dedupeId = props[PROPERTY.dedupeId];
  const enqueued = meta.enqueuedTimeUtc === undefined ? Number.NaN : new Date(meta.enqueuedTimeUtc).getTime();
  return {
    id: String(props[PROPERTY.id] ?? meta.messageId),
    body: body as WorkMessage,
    attributes,
    ...(dedupeId === undefined ? {} : { dedupeId: String(dedupeId) }),
    deliveryCount: Number(props[PROPERTY.priorDeliveries] ?? 0) + meta.deliveryCount,
    publishedAt: Number(props[PROPERTY.publishedAt] ?? (Number.isFinite(enqueued) ? enqueued : Date.now())),
    receipt: `${TRIGGER_RECEIPT_PREFIX}${randomUUID()}`,
  };
}

/** app.timer: checks the plans' schedule triggers and fires the due ones, exactly once each. */
export function createTimerHandler(get: Get = () => workerRuntime()) {
  return async (
    timer: Timer,
    context: InvocationContext,
  ): Promise<Array<Pick<TickFiring, "planId" | "runId" | "outcome">>> => {
    const runtime = await get();
    const fired = await runtime.scheduler.check();
    runtime.logger.info(
      { invocationId: context.invocationId, isPastDue: timer.isPastDue, fired: fired.length },
      "schedules checked",
    );
    return fired.map(({ planId, runId, outcome }) => ({ planId, runId, outcome }));
  };
}
