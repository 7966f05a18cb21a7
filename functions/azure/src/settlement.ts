import type { Queue } from "@aat/core/ports";
import type { WorkMessage } from "@aat/core/runner";
import { PushedDeliveryQueue, type PushedSettlement } from "@aat/functions-serverless/pushed-settlement";

/** Receipts of trigger deliveries start with this (one per invocation). */
export const TRIGGER_RECEIPT_PREFIX = "trigger:";

/** How the Runner settled one trigger delivery. */
export type TriggerSettlement = PushedSettlement;

/**
 * The step queue as the Runner uses it inside the Service Bus trigger (the shared PushedDeliveryQueue of
 * functions/serverless). Publishing goes to the queue. A trigger delivery (receipt `trigger:<uuid>`) is
 * settled by the Functions host from the handler's outcome, so the Runner's calls on it are recorded and
 * the worker answers them:
 * - ack → the handler returns: the host completes the message (autoCompleteMessages, the default).
 * - nack → the handler throws: the host abandons it, the broker delivers it again (its delivery count
 *   grows; the Runner's delay is not honoured, the host's retry policy applies if configured).
 * - deadLetter → the handler throws with the reason (logged): the broker moves the message to the
 *   dead-letter sub-queue after the queue's MaxDeliveryCount (reason MaxDeliveryCountExceeded). A trigger
 *   without SDK bindings cannot dead-letter by itself; the message is never lost.
 * - extendLease → nothing: the host renews the lock while the handler runs (maxAutoLockRenewalDuration
 *   in host.json, default 5 minutes).
 * Received deliveries (the adapter's lock token as receipt, e.g. a long-running worker) go to the queue unchanged.
 */
export class TriggerSettlementQueue extends PushedDeliveryQueue {
  constructor(inner: Queue<WorkMessage>) {
    super(inner, { receiptPrefix: TRIGGER_RECEIPT_PREFIX });
  }
}
