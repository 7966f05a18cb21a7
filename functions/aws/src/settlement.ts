import type { WorkMessage } from "@aat/core";
import { ForwardingQueue, type QueueMessage } from "@aat/core/ports";

/**
 * The step queue as the Runner sees it inside a Lambda worker: every call goes to the real queue, and
 * the receipts the Runner settled (acked or dead-lettered) are remembered. A record whose receipt was not
 * settled (nacked for later, left to its lease, or failed) must be reported in batchItemFailures: if the
 * event source mapping deleted it as a success, the step would be lost.
 */
export class SettlementTracker extends ForwardingQueue<WorkMessage> {
  private readonly settled = new Set<string>();

  /** True once, when the Runner acked or dead-lettered the delivery with this receipt; forgets it. */
  takeSettled(receipt: string): boolean {
    return this.settled.delete(receipt);
  }

  override async ack(message: QueueMessage<WorkMessage>): Promise<void> {
    await this.inner.ack(message);
    this.settled.add(message.receipt);
  }

  override async deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    await this.inner.deadLetter(message, reason);
    this.settled.add(message.receipt);
  }
}
