import type {
  DeadLetter,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
  WorkMessage,
} from "@aat/core";

/** Receipts of trigger deliveries start with this (one per invocation). */
export const TRIGGER_RECEIPT_PREFIX = "trigger:";

/** How the Runner settled one trigger delivery. */
export type TriggerSettlement = { kind: "ack" } | { kind: "retry" } | { kind: "deadLetter"; reason: string };

/**
 * The step queue as the Runner uses it inside the Service Bus trigger. Publishing goes to the queue. A
 * trigger delivery (receipt `trigger:<uuid>`) is settled by the Functions host from the handler's outcome, so the
 * Runner's calls on it are recorded and the worker answers them:
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
export class TriggerSettlementQueue implements Queue<WorkMessage> {
  private readonly settled = new Map<string, TriggerSettlement>();

  constructor(private readonly inner: Queue<WorkMessage>) {}

  get name(): string {
    return this.inner.name;
  }

  get maxDeliveries(): number | undefined {
    return this.inner.maxDeliveries;
  }

  /** How the Runner settled the trigger delivery with this receipt (undefined: not at all); forgets it. */
  takeSettled(receipt: string): TriggerSettlement | undefined {
    const settled = this.settled.get(receipt);
    this.settled.delete(receipt);
    return settled;
  }

  publish(body: WorkMessage, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(body, options);
  }

  receive(options?: ReceiveOptions): Promise<Array<QueueMessage<WorkMessage>>> {
    return this.inner.receive(options);
  }

  async ack(message: QueueMessage<WorkMessage>): Promise<void> {
    if (!isTriggered(message)) return this.inner.ack(message);
    this.settled.set(message.receipt, { kind: "ack" });
  }

  async nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    if (!isTriggered(message)) return this.inner.nack(message, options);
    this.settled.set(message.receipt, { kind: "retry" });
  }

  async extendLease(message: QueueMessage<WorkMessage>, ms: number): Promise<void> {
    if (!isTriggered(message)) return this.inner.extendLease(message, ms);
  }

  async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    if (!isTriggered(message)) return this.inner.deadLetter(message, reason);
    this.settled.set(message.receipt, { kind: "deadLetter", reason });
  }

  listDeadLetters(options?: { limit?: number }): Promise<Array<DeadLetter<WorkMessage>>> {
    return this.inner.listDeadLetters(options);
  }

  redrive(deadLetterId: string): Promise<void> {
    return this.inner.redrive(deadLetterId);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function isTriggered(message: QueueMessage<WorkMessage>): boolean {
  return message.receipt.startsWith(TRIGGER_RECEIPT_PREFIX);
}
