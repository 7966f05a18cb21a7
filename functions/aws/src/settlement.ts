import type {
  DeadLetter,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
  WorkMessage,
} from "@aat/core";

/**
 * The step queue as the Runner sees it inside a Lambda worker: every call goes to the real queue, and
 * the receipts the Runner settled (acked or dead-lettered) are remembered. A record whose receipt was not
 * settled (nacked for later, left to its lease, or failed) must be reported in batchItemFailures: if the
 * event source mapping deleted it as a success, the step would be lost.
 */
export class SettlementTracker implements Queue<WorkMessage> {
  private readonly settled = new Set<string>();

  constructor(private readonly inner: Queue<WorkMessage>) {}

  get name(): string {
    return this.inner.name;
  }

  get maxDeliveries(): number | undefined {
    return this.inner.maxDeliveries;
  }

  /** True once, when the Runner acked or dead-lettered the delivery with this receipt; forgets it. */
  takeSettled(receipt: string): boolean {
    return this.settled.delete(receipt);
  }

  publish(body: WorkMessage, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(body, options);
  }

  receive(options?: ReceiveOptions): Promise<Array<QueueMessage<WorkMessage>>> {
    return this.inner.receive(options);
  }

  async ack(message: QueueMessage<WorkMessage>): Promise<void> {
    await this.inner.ack(message);
    this.settled.add(message.receipt);
  }

  nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    return this.inner.nack(message, options);
  }

  extendLease(message: QueueMessage<WorkMessage>, ms: number): Promise<void> {
    return this.inner.extendLease(message, ms);
  }

  async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    await this.inner.deadLetter(message, reason);
    this.settled.add(message.receipt);
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
