import { randomUUID } from "node:crypto";
import { ForwardingQueue, type Queue, type QueueMessage } from "@aat/core/ports";
import type { WorkMessage } from "@aat/core/runner";

/** How the Runner settled one pushed delivery; the trigger's answer (HTTP status, throw) follows from it. */
export type PushedSettlement =
  | { kind: "ack" }
  | { kind: "retry"; delayMs: number }
  | { kind: "deadLetter"; reason: string };

export interface PushedDeliveryQueueOptions {
  /** Receipts of pushed deliveries start with this ("push:", "trigger:", "cloudevent:"). */
  receiptPrefix: string;
  /**
   * What `deadLetter` does with a pushed delivery. Default: record `{ kind: "deadLetter", reason }` for
   * the trigger to answer (Knative's 422, Service Bus's abandon until MaxDeliveryCount). A target that
   * can put the message somewhere itself (Pub/Sub: the `<topic>-dead` topic) does so and returns the
   * settlement to record instead (`{ kind: "ack" }`: the delivery is done).
   */
  deadLetter?: (message: QueueMessage<WorkMessage>, reason: string) => Promise<PushedSettlement>;
}

/**
 * The step queue as the Runner sees it where step messages are pushed to the function (Pub/Sub push,
 * the Service Bus trigger, Knative CloudEvents) instead of received from the queue. A pushed delivery has
 * a receipt starting with the target's prefix and no broker handle: the answer to the push settles it,
 * so the Runner's ack, nack and deadLetter on it are recorded here and read back with `takeSettled`;
 * extendLease does nothing (the delivery is held while the request is open). Publishing and every call
 * on a delivery the queue itself received (a pull worker) go to the queue unchanged.
 */
export class PushedDeliveryQueue extends ForwardingQueue<WorkMessage> {
  private readonly settled = new Map<string, PushedSettlement>();

  constructor(
    inner: Queue<WorkMessage>,
    private readonly options: PushedDeliveryQueueOptions,
  ) {
    super(inner);
  }

  /** A fresh receipt for one pushed delivery (one per request, so two pushes of a message never mix). */
  newReceipt(): string {
    return `${this.options.receiptPrefix}${randomUUID()}`;
  }

  /** True for a delivery that came by push (its receipt has this queue's prefix). */
  isPushed(message: Pick<QueueMessage<WorkMessage>, "receipt">): boolean {
    return message.receipt.startsWith(this.options.receiptPrefix);
  }

  /** How the Runner settled the pushed delivery with this receipt (undefined: not at all); forgets it. */
  takeSettled(receipt: string): PushedSettlement | undefined {
    const settled = this.settled.get(receipt);
    this.settled.delete(receipt);
    return settled;
  }

  override async ack(message: QueueMessage<WorkMessage>): Promise<void> {
    if (!this.isPushed(message)) return this.inner.ack(message);
    this.settled.set(message.receipt, { kind: "ack" });
  }

  override async nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    if (!this.isPushed(message)) return this.inner.nack(message, options);
    this.settled.set(message.receipt, { kind: "retry", delayMs: options?.delayMs ?? 0 });
  }

  override async extendLease(message: QueueMessage<WorkMessage>, ms: number): Promise<void> {
    if (!this.isPushed(message)) return this.inner.extendLease(message, ms);
  }

  override async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    if (!this.isPushed(message)) return this.inner.deadLetter(message, reason);
    const settled = this.options.deadLetter
      ? await this.options.deadLetter(message, reason)
      : { kind: "deadLetter" as const, reason };
    this.settled.set(message.receipt, settled);
  }
}
