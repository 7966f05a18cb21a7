import * as z from "zod/mini";
import { installZodDefaults } from "../zod-defaults.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/** A claim whose holder is (or was) working; claimable by others once `claimableAt` has passed. */
export const inProgressRecordSchema = z.object({
  status: z.literal("in_progress"),
  /** Random per claim: versions restart at 1 after a delete or expiry, so only this identifies a holder. */
  claimId: z.string(),
  claimedAt: z.number(),
  /** End of the holder's in-progress window (claimedAt + inProgressExpiryMs). */
  claimableAt: z.number(),
  /** When the record itself stops counting (it also carries a KV TTL to the same instant). */
  expiresAt: z.number(),
  payloadHash: z.optional(z.string()),
});

/** A finished effect and its result (inline, or by reference to a separate key when large). */
export const completedRecordSchema = z.object({
  status: z.literal("completed"),
  /** The claim whose holder completed it. */
  claimId: z.string(),
  completedAt: z.number(),
  expiresAt: z.number(),
  payloadHash: z.optional(z.string()),
  result: z.optional(z.unknown()),
  resultRef: z.optional(z.string()),
});

export const dedupeRecordSchema = z.discriminatedUnion("status", [
  inProgressRecordSchema,
  completedRecordSchema,
]);

export type InProgressRecord = z.infer<typeof inProgressRecordSchema>;
export type CompletedRecord = z.infer<typeof completedRecordSchema>;
export type DedupeRecord = z.infer<typeof dedupeRecordSchema>;
