import type {
  DeadLetter,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
} from "./queue.js";

/**
 * A Queue that hands every call to `inner`. Queue decorators (settlement trackers, the shutdown
 * tracker, pushed deliveries) extend it and override only what they change, so a method added to the
 * port, or an optional one such as `depth`, reaches the real queue through every decorator.
 */
export class ForwardingQueue<T> implements Queue<T> {
  constructor(protected readonly inner: Queue<T>) {}

  get name(): string {
    return this.inner.name;
  }

  get maxDeliveries(): number | undefined {
    return this.inner.maxDeliveries;
  }

  get depth(): (() => Promise<number>) | undefined {
    const inner = this.inner;
    return inner.depth ? () => inner.depth!() : undefined;
  }

  publish(body: T, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(body, options);
  }

  receive(options?: ReceiveOptions): Promise<Array<QueueMessage<T>>> {
    return this.inner.receive(options);
  }

  ack(message: QueueMessage<T>): Promise<void> {
    return this.inner.ack(message);
  }

  nack(message: QueueMessage<T>, options?: { delayMs?: number }): Promise<void> {
    return this.inner.nack(message, options);
  }

  extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    return this.inner.extendLease(message, ms);
  }

  deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    return this.inner.deadLetter(message, reason);
  }

  listDeadLetters(options?: { limit?: number }): Promise<Array<DeadLetter<T>>> {
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
