import { z } from "zod";
import type { Clock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import type { PublishResult } from "../ports/queue.js";
import { DedupeService } from "./service.js";

/**
 * How long a publisher's claim on a dedupeId keeps other publishers of it waiting. A publisher that dies
 * between claiming and the broker's confirm blocks the id for this long; then the next publish of it goes
 * through, so the message is not lost.
 */
export const CLAIM_TIMEOUT_MS = 10_000;
const WAIT_STEP_MS = 20;

const storedResultSchema = z.object({ messageId: z.string().min(1) });

/**
 * For brokers without broker-side duplicate detection (RabbitMQ, SQS standard queues): publishes with a
 * dedupeId go through the DedupeService on a KeyValue store: the first publisher claims the id, publishes, and stores the message
 * id as the claim's result for the dedupe window; later publishers get that id back with
 * `duplicate: true`, and concurrent ones wait for the first to finish.
 */
export class PublishDedupe {
  private readonly service: DedupeService;

  constructor(
    kv: KeyValue,
    prefix: string,
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly where: string,
  ) {
    this.service = new DedupeService({ kv, clock, prefix });
  }

  async publishOnce(dedupeId: string, publish: () => Promise<string>): Promise<PublishResult> {
    const givesUpAt = Date.now() + CLAIM_TIMEOUT_MS * 2;
    for (;;) {
      const claim = await this.service.claim(dedupeId, {
        expiresAfterMs: this.windowMs,
        inProgressExpiryMs: CLAIM_TIMEOUT_MS,
      });
      switch (claim.status) {
        case "claimed": {
          let messageId: string;
          try {
            messageId = await publish();
          } catch (error) {
            // Not published: let a retry claim the id at once.
            await this.service.release(dedupeId, claim).catch(() => undefined);
            throw error;
          }
          // False only when this publish outlived CLAIM_TIMEOUT_MS and another one took over: both went out.
          await this.service.complete(dedupeId, { messageId }, claim);
          return { messageId, duplicate: false };
        }
        case "duplicate": {
          const stored = storedResultSchema.safeParse(claim.result);
          if (!stored.success) {
            throw new Error(
              `${this.where}: the dedupe record of ${JSON.stringify(dedupeId)} holds no message id; ` +
                "another writer uses the same KeyValue prefix, so give this queue its own dedupePrefix",
            );
          }
          return { messageId: stored.data.messageId, duplicate: true };
        }
        case "in_progress": {
          if (Date.now() >= givesUpAt) {
            throw new Error(
              `${this.where}: another publisher of dedupeId ${JSON.stringify(dedupeId)} neither finished nor gave ` +
                `up within ${CLAIM_TIMEOUT_MS * 2} ms; try again`,
            );
          }
          const wait = Math.min(Math.max(1, claim.expiresAt - this.clock.now()), WAIT_STEP_MS);
          await new Promise((resolve) => setTimeout(resolve, wait));
          break;
        }
        case "payload_mismatch":
          throw new Error(
            `${this.where}: unexpected payload mismatch for dedupeId ${JSON.stringify(dedupeId)}`,
          );
      }
    }
  }
}
