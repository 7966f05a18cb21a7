import * as z from "zod/mini";
import { installZodDefaults } from "../zod-defaults.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/** The claim of one tick. `claimed` without `started` means its owner may have died before starting the run. */
export const tickClaimRecord = z.object({
  status: z.enum(["claimed", "started", "failed"]),
  runId: z.string(),
  planVersion: z.number().check(z.int(), z.minimum(1)),
  input: z.record(z.string(), z.unknown()),
  claimedAt: z.number(),
  startedAt: z.optional(z.number()),
  error: z.optional(z.string()),
});
export type TickClaimRecord = z.infer<typeof tickClaimRecord>;

/** Since when a trigger with this cron and time zone exists. */
export const anchorRecord = z.object({
  cron: z.string(),
  timezone: z.string(),
  since: z.number(),
});
export type AnchorRecord = z.infer<typeof anchorRecord>;
