import { z } from "zod";

/** The claim of one tick. `claimed` without `started` means its owner may have died before starting the run. */
export const tickClaimRecord = z.object({
  status: z.enum(["claimed", "started", "failed"]),
  runId: z.string(),
  planVersion: z.number().int().min(1),
  input: z.record(z.string(), z.unknown()),
  claimedAt: z.number(),
  startedAt: z.number().optional(),
  error: z.string().optional(),
});
export type TickClaimRecord = z.infer<typeof tickClaimRecord>;

/** Since when a trigger with this cron and time zone exists. */
export const anchorRecord = z.object({
  cron: z.string(),
  timezone: z.string(),
  since: z.number(),
});
export type AnchorRecord = z.infer<typeof anchorRecord>;
