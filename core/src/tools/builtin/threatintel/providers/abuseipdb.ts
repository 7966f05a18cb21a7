import * as z from "zod/mini";
import { installZodDefaults } from "../../../../zod-defaults.js";
import { onFirstUse } from "../../../first-use.js";
import type { IndicatorType, LookupContext, ProviderResult, ThreatIntelProvider } from "../types.js";
import { ProviderError, verdictOfScore } from "../types.js";
import { providerFailure } from "./http-errors.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface AbuseIpDbOptions {
  apiKey: string;
  /** Default https://api.abuseipdb.com/api/v2. */
  baseUrl: string;
  /** Reports older than this are ignored (the API's maxAgeInDays, 1–365). */
  maxAgeInDays: number;
}

/** The fields of `GET /api/v2/check` this provider reads (`{ data: { … } }`). */
// Built on the first lookup (../../../first-use.ts).
const checkResponse = onFirstUse(() =>
  z.object({
    data: z.object({
      ipAddress: z.string(),
      abuseConfidenceScore: z.number(),
      isWhitelisted: z.optional(z.nullable(z.boolean())),
      totalReports: z.optional(z.number()),
      countryCode: z.optional(z.nullable(z.string())),
      usageType: z.optional(z.nullable(z.string())),
      isTor: z.optional(z.boolean()),
    }),
  }),
);

/**
 * AbuseIPDB APIv2 `check`: `GET {baseUrl}/check?ipAddress=…&maxAgeInDays=…` with the key in the `Key`
 * header. The abuse confidence score (0–100) is the score; an allow-listed address counts as benign.
 */
export class AbuseIpDbProvider implements ThreatIntelProvider {
  readonly name = "abuseipdb";

  constructor(private readonly options: AbuseIpDbOptions) {}

  supports(type: IndicatorType): boolean {
    return type === "ip";
  }

  async lookup(_type: IndicatorType, ip: string, ctx: LookupContext): Promise<ProviderResult> {
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, "")}/check`);
    url.searchParams.set("ipAddress", ip);
    url.searchParams.set("maxAgeInDays", String(this.options.maxAgeInDays));
    const response = await ctx.http.send({
      url,
      headers: { Key: this.options.apiKey, Accept: "application/json" },
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    if (response.status !== 200) throw providerFailure(this.name, response);
    const parsed = checkResponse().safeParse(response.json);
    if (!parsed.success) throw new ProviderError("abuseipdb answered without data.abuseConfidenceScore");
    const data = parsed.data.data;
    const whitelisted = data.isWhitelisted === true;
    const score = whitelisted ? 0 : data.abuseConfidenceScore;
    const tags = [
      ...(data.isTor ? ["tor"] : []),
      ...(data.usageType ? [data.usageType] : []),
      ...(whitelisted ? ["whitelisted"] : []),
    ];
    return {
      provider: this.name,
      status: "ok",
      verdict: whitelisted ? "benign" : verdictOfScore(score),
      score,
      reason: `abuse confidence ${data.abuseConfidenceScore}%, ${data.totalReports ?? 0} report(s)${data.countryCode ? `, country ${data.countryCode}` : ""}`,
      ...(tags.length > 0 ? { tags } : {}),
      link: `https://www.abuseipdb.com/check/${encodeURIComponent(ip)}`,
    };
  }
}
