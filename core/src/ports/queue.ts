/**
 * Queue port: at-least-once delivery of step commands and other work between processes.
 *
 * Semantics every adapter must honour (checked by `queueContract` in `@aat/core/testing`):
 * - Delivery is at least once. A received message is leased for `visibilityTimeoutMs`; unless it is
 *   acked, nacked or its lease is extended, it becomes deliverable again when the lease ends.
 * - Messages published with the same `dedupeId` inside the adapter's duplicate window are delivered
 *   once (`publish` reports `duplicate: true` for the later ones when the backend tells it).
 * - Order is not guaranteed (FIFO backends may keep it; the core never relies on it).
 * - `deliveryCount` starts at 1 and grows with every redelivery. When a message would be delivered more
 *   than `maxDeliveries` times it is moved to the dead-letter store instead, with a reason.
 * - `delayMs` (publish or nack) keeps a message invisible for at least that long.
 */
export type MessageAttributes = Record<string, string>;

export interface PublishOptions {
  /** Broker-side duplicate suppression key (for example `runId/step/attempt`). */
  dedupeId?: string;
  /** Deliver no sooner than this many milliseconds from now. */
  delayMs?: number;
  /** String attributes carried beside the body (for example W3C `traceparent`). */
  attributes?: MessageAttributes;
  /** Backends with ordered partitions (FIFO SQS, Service Bus sessions) group by this key. */
  orderingKey?: string;
}

export interface PublishResult {
  messageId: string;
  duplicate: boolean;
}

export interface QueueMessage<T = unknown> {
  /** Adapter's id for this message, stable across redeliveries. */
  id: string;
  body: T;
  attributes: MessageAttributes;
  dedupeId?: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** Epoch milliseconds when it was first published. */
  publishedAt: number;
  /** Adapter-specific handle needed to ack/nack this delivery. */
  receipt: string;
}

export interface ReceiveOptions {
  /** At most this many messages (default 1). */
  maxMessages?: number;
  /** Wait up to this long for a first message when none is ready (default 0: return at once). */
  waitMs?: number;
}

export interface DeadLetter<T = unknown> {
  id: string;
  body: T;
  attributes: MessageAttributes;
  dedupeId?: string;
  deliveryCount: number;
  reason: string;
  deadLetteredAt: number;
}

export interface QueueOptions {
  /** Lease length for received messages (default 30 s). */
  visibilityTimeoutMs?: number;
  /** Deliveries before a message is dead-lettered (default 5). */
  maxDeliveries?: number;
}

export interface Queue<T = unknown> {
  readonly name: string;
  /** Deliveries before the adapter dead-letters a message on its own (undefined: never). */
  readonly maxDeliveries?: number;
  publish(body: T, options?: PublishOptions): Promise<PublishResult>;
  receive(options?: ReceiveOptions): Promise<Array<QueueMessage<T>>>;
  /** Done: the message is never delivered again. */
  ack(message: QueueMessage<T>): Promise<void>;
  /** Not done: deliver again after `delayMs` (default 0). */
  nack(message: QueueMessage<T>, options?: { delayMs?: number }): Promise<void>;
  /** The holder is alive: push the lease end to now + `ms` (heartbeat for long steps). */
  extendLease(message: QueueMessage<T>, ms: number): Promise<void>;
  /** Give up on the message now, keeping it with the reason in the dead-letter store. */
  deadLetter(message: QueueMessage<T>, reason: string): Promise<void>;
  listDeadLetters(options?: { limit?: number }): Promise<Array<DeadLetter<T>>>;
  /** Publish a dead letter again (delivery count reset) and remove it from the dead-letter store. */
  redrive(deadLetterId: string): Promise<void>;
  /** Round trip to the backend, for readiness checks. */
  ping(): Promise<void>;
  /**
   * Messages not yet acked or dead-lettered (ready, delayed or leased), for the queue depth metric.
   * Optional: adapters that cannot tell cheaply leave it out.
   */
  depth?(): Promise<number>;
  close(): Promise<void>;
}
