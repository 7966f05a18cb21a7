import * as z from "zod/mini";
import { installZodDefaults } from "../../../zod-defaults.js";
import { onFirstUse } from "../../first-use.js";
import type { EgressClient } from "../egress/client.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export const INDICATOR_TYPES = ["ip", "domain", "url", "hash"] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

/** How bad an indicator looks to one provider, or to all of them together. */
export const VERDICTS = ["malicious", "suspicious", "benign", "unknown"] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * One provider's answer. `degraded` means the provider could not answer (not configured for this
 * type, rate-limited, failing, timed out): the enrichment goes on without it and says why.
 */
/** Built on first use (../../first-use.ts). */
export const providerResultSchema = onFirstUse(() =>
  z.strictObject({
    provider: z.string(),
    status: z.enum(["ok", "not_found", "degraded"]),
    verdict: z.enum(VERDICTS),
    /** 0 (harmless) … 100 (certainly malicious), on the provider's own evidence; absent when it has none. */
    score: z.optional(z.number().check(z.minimum(0), z.maximum(100))),
    /** Why it is degraded, or a one-line summary of the evidence. */
    reason: z.optional(z.string()),
    tags: z.optional(z.array(z.string())),
    /** Where a person can see the provider's page for this indicator. */
    link: z.optional(z.string()),
    /** True when the answer came from the KV cache. */
    cached: z.optional(z.boolean()),
  }),
);
export type ProviderResult = z.output<ReturnType<typeof providerResultSchema>>;

/** Built on first use (../../first-use.ts). */
export const enrichmentSchema = onFirstUse(() =>
  z.strictObject({
    indicator: z.string(),
    type: z.enum(INDICATOR_TYPES),
    /** The worst verdict any provider gave (malicious > suspicious > benign > unknown). */
    verdict: z.enum(VERDICTS),
    /** The highest provider score, or null when no provider had evidence. */
    score: z.nullable(z.number().check(z.minimum(0), z.maximum(100))),
    /** True when at least one provider could not answer. */
    degraded: z.boolean(),
    providers: z.array(providerResultSchema()),
  }),
);
export type Enrichment = z.output<ReturnType<typeof enrichmentSchema>>;

/** What a provider gets for one lookup. */
export interface LookupContext {
  http: EgressClient;
  signal: AbortSignal;
  timeoutMs: number;
}

/** A threat-intel source. `lookup` throws (ProviderError or anything) when it cannot answer. */
export interface ThreatIntelProvider {
  readonly name: string;
  supports(type: IndicatorType): boolean;
  lookup(type: IndicatorType, value: string, ctx: LookupContext): Promise<ProviderResult>;
}

/** A provider could not answer; `rateLimited` with `retryAfterMs` makes the service back off. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly options: { rateLimited?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** Verdict for a 0–100 score by the same thresholds the offline model uses (70 high, 30 medium). */
export function verdictOfScore(score: number): Verdict {
  if (score >= 70) return "malicious";
  if (score >= 30) return "suspicious";
  return "benign";
}
