import {
  type DedupeClaim,
  type DedupeClaimOptions,
  type DedupeHold,
  DedupeService,
  type DedupeServiceOptions,
  ForwardingQueue,
  type Queue,
  type QueueMessage,
  type WorkMessage,
} from "@aat/core";

/**
 * A DedupeService that remembers the claims this process holds, so a shutdown that cannot wait for a
 * step to finish can give its claim up: the next delivery then runs the step at once instead of
 * waiting for the claim to expire.
 */
export class ReleasableDedupe extends DedupeService {
  private readonly holds = new Map<string, DedupeHold>();

  constructor(options: DedupeServiceOptions) {
    super(options);
  }

  override async claim(key: string, options: DedupeClaimOptions): Promise<DedupeClaim> {
    const claim = await super.claim(key, options);
    if (claim.status === "claimed") this.holds.set(key, claim);
    return claim;
  }

  override async complete(key: string, result: unknown, hold: DedupeHold): Promise<boolean> {
    try {
      return await super.complete(key, result, hold);
    } finally {
      this.holds.delete(key);
    }
  }

  override async release(key: string, hold: DedupeHold): Promise<boolean> {
    this.holds.delete(key);
    return super.release(key, hold);
  }

  get held(): number {
    return this.holds.size;
  }

  /** Release every claim still held; returns how many were released. */
  async releaseAll(): Promise<number> {
    const holds = [...this.holds.entries()];
    this.holds.clear();
    const released = await Promise.all(
      holds.map(([key, hold]) => super.release(key, hold).catch(() => false)),
    );
    return released.filter(Boolean).length;
  }
}

/**
 * Wraps the step queue to know which received messages are not settled yet (acked, nacked or
 * dead-lettered), so shutdown can hand them back to the queue at once rather than leave them leased.
 */
export class TrackedQueue extends ForwardingQueue<WorkMessage> {
  private readonly unsettled = new Map<string, QueueMessage<WorkMessage>>();

  get inFlight(): number {
    return this.unsettled.size;
  }

  override async receive(...args: Parameters<Queue<WorkMessage>["receive"]>) {
    const messages = await this.inner.receive(...args);
    for (const message of messages) this.unsettled.set(message.receipt, message);
    return messages;
  }

  override async ack(message: QueueMessage<WorkMessage>): Promise<void> {
    this.unsettled.delete(message.receipt);
    await this.inner.ack(message);
  }

  override async nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    this.unsettled.delete(message.receipt);
    await this.inner.nack(message, options);
  }

  override async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    this.unsettled.delete(message.receipt);
    await this.inner.deadLetter(message, reason);
  }

  /** Make every unsettled message deliverable again now; returns how many. */
  async releaseAll(): Promise<number> {
    const messages = [...this.unsettled.values()];
    this.unsettled.clear();
    const released = await Promise.all(
      messages.map((message) =>
        this.inner.nack(message).then(
          () => true,
          () => false,
        ),
      ),
    );
    return released.filter(Boolean).length;
  }
}
