import { z } from "zod";

/**
 * Option fields every Queue adapter accepts with the same meaning, spread into each adapter's own
 * options schema so the validation and its messages are written once.
 */
export const queueOptionFields = {
  /** Lease length for a received message before it is delivered again (adapter default, often 30 s). */
  visibilityTimeoutMs: z.number().int().positive().optional(),
  /** Deliveries before a message is dead-lettered (adapter default, often 5). */
  maxDeliveries: z.number().int().positive().optional(),
  /** How long a dedupeId suppresses later publishes (default 5 minutes, like SQS FIFO); 0 turns it off. */
  dedupeWindowMs: z.number().int().nonnegative().optional(),
};
