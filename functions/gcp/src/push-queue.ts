import { ATTRIBUTE, type PubSubQueue } from "@aat/adapter-pubsub";
import type {
  DeadLetter,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
  WorkMessage,
} from "@aat/core";

/** How the Runner settled one pushed delivery, answered to Pub/Sub as the HTTP status. */
export type PushSettlement = "ack" | "retry";

/** Receipts of pushed deliveries start with this (one per request, so two pushes of one message never mix). */
export const PUSH_RECEIPT_PREFIX = "push:";

/**
 * Attributes of a dead letter on `<topic>-dead`; the same names the Pub/Sub adapter writes and reads
 * (its listDeadLetters and redrive). The GCP end-to-end test lists a dead letter written here.
 */
const DEAD = { reason: "aat-dead-reason", at: "aat-dead-at", count: "aat-dead-count" } as const;

/**
 * The step queue as the Runner uses it inside a Pub/Sub push function. Publishing goes to the topic.
 * A pushed delivery has no ack id (its receipt is `push:<uuid>`): it is settled by the HTTP answer, so the
 * Runner's calls on it are recorded instead of sent:
 * - ack → 2xx (Pub/Sub deletes the message);
 * - nack → non-2xx (Pub/Sub redelivers with the subscription's retry policy; push has no per-message
 *   delay, so the backoff stands in for the Runner's nack delay, which is at most 30 s);
 * - deadLetter → the message goes to `<topic>-dead` with the reason, then 2xx;
 * - extendLease → nothing: the delivery is held while the request is open (up to the subscription's
 *   ack deadline, at most 600 s, and the function's timeout).
 * Pulled deliveries (an ack id as receipt) go to the Pub/Sub queue unchanged.
 */
export class PushSettlementQueue implements Queue<WorkMessage> {
  private readonly settled = new Map<string, PushSettlement>();

  constructor(private readonly inner: PubSubQueue<WorkMessage>) {}

  get name(): string {
    return this.inner.name;
  }

  get maxDeliveries(): number | undefined {
    return this.inner.maxDeliveries;
  }

  /** How the Runner settled the pushed delivery with this receipt (undefined: not at all); forgets it. */
  takeSettled(receipt: string): PushSettlement | undefined {
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
    if (!isPushed(message)) return this.inner.ack(message);
    this.settled.set(message.receipt, "ack");
  }

  async nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    if (!isPushed(message)) return this.inner.nack(message, options);
    this.settled.set(message.receipt, "retry");
  }

  async extendLease(message: QueueMessage<WorkMessage>, ms: number): Promise<void> {
    if (!isPushed(message)) return this.inner.extendLease(message, ms);
  }

  async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    if (!isPushed(message)) return this.inner.deadLetter(message, reason);
    const attributes = {
      ...message.attributes,
      ...(message.dedupeId === undefined ? {} : { [ATTRIBUTE.dedupeId]: message.dedupeId }),
      [DEAD.reason]: reason,
      [DEAD.at]: String(Date.now()),
      [DEAD.count]: String(message.deliveryCount),
    };
    // The adapter's own publisher (with its client and encoding); a pushed delivery cannot be acked by id.
    // biome-ignore lint/complexity/useLiteralKeys: element access reaches the adapter's private publisher
    await this.inner["publishTo"](`${this.inner.name}-dead`, message.body, attributes);
    this.settled.set(message.receipt, "ack");
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

function isPushed(message: QueueMessage<WorkMessage>): boolean {
  return message.receipt.startsWith(PUSH_RECEIPT_PREFIX);
}
