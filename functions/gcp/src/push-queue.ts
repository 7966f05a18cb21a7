import type { PubSubQueue } from "@aat/adapter-pubsub";
import type { WorkMessage } from "@aat/core/runner";
import { PushedDeliveryQueue, type PushedSettlement } from "@aat/functions-serverless/pushed-settlement";

/** How the Runner settled one pushed delivery, answered to Pub/Sub as the HTTP status. */
export type PushSettlement = PushedSettlement;

/** Receipts of pushed deliveries start with this (one per request, so two pushes of one message never mix). */
export const PUSH_RECEIPT_PREFIX = "push:";

/**
 * The step queue as the Runner uses it inside a Pub/Sub push function (the shared PushedDeliveryQueue of
 * functions/serverless). Publishing goes to the topic. A pushed delivery (receipt `push:<uuid>`) is
 * settled by the HTTP answer:
 * - ack → 2xx (Pub/Sub deletes the message);
 * - nack → non-2xx (Pub/Sub redelivers with the subscription's retry policy; push has no per-message
 *   delay, so the backoff stands in for the Runner's nack delay, which is at most 30 s);
 * - deadLetter → the message goes to `<topic>-dead` with the reason (the adapter's publishDeadLetter,
 *   read by its listDeadLetters and redrive), then 2xx;
 * - extendLease → nothing: the delivery is held while the request is open (up to the subscription's
 *   ack deadline, at most 600 s, and the function's timeout).
 * Pulled deliveries (an ack id as receipt) go to the Pub/Sub queue unchanged.
 */
export class PushSettlementQueue extends PushedDeliveryQueue {
  constructor(inner: PubSubQueue<WorkMessage>) {
    super(inner, {
      receiptPrefix: PUSH_RECEIPT_PREFIX,
      deadLetter: async (message, reason) => {
        await inner.publishDeadLetter(message, reason);
        return { kind: "ack" };
      },
    });
  }
}
