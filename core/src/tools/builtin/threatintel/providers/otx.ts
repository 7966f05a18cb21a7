import * as z from "zod/mini";
import { installZodDefaults } from "../../../../zod-defaults.js";
import { onFirstUse } from "../../../first-use.js";
import type { IndicatorType, LookupContext, ProviderResult, ThreatIntelProvider } from "../types.js";
import { ProviderError } from "../types.js";
import { providerFailure } from "./http-errors.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface OtxOptions {
  apiKey: string;
  /** Default https://otx.alienvault.com/api/v1. */
  baseUrl: string;
}

/** The part of `GET /indicators/{type}/{value}/general` this provider reads. */
// Built on the first lookup (../../../first-use.ts).
const generalResponse = onFirstUse(() =>
  z.object({
    pulse_info: z.optional(
      z.object({
        count: z._default(z.number(), 0),
        pulses: z._default(
          z.array(z.object({ name: z.optional(z.string()), tags: z.optional(z.array(z.string())) })),
          [],
        ),
      }),
    ),
    /** Allow-list hits ("whitelisted" sources such as Alexa or Majestic top lists). */
    validation: z.optional(
      z.array(z.object({ source: z.optional(z.string()), message: z.optional(z.string()) })),
    ),
  }),
);

/**
 * AlienVault OTX DirectConnect API v1: `GET {baseUrl}/indicators/{IPv4|IPv6|domain|url|file}/{value}/general`
 * with the key in `X-OTX-API-KEY`. The evidence is the number of pulses naming the indicator (5 or more
 * → 85, 1–4 → 55 + 5 per pulse); an indicator OTX validates as allow-listed is benign.
 */
export class OtxProvider implements ThreatIntelProvider {
  readonly name = "otx";

  constructor(private readonly options: OtxOptions) {}

  supports(): boolean {
    return true;
  }

  async lookup(type: IndicatorType, value: string, ctx: LookupContext): Promise<ProviderResult> {
    const section = type === "ip" ? (value.includes(":") ? "IPv6" : "IPv4") : type === "hash" ? "file" : type;
    const url = `${this.options.baseUrl.replace(/\/$/, "")}/indicators/${section}/${encodeURIComponent(value)}/general`;
    const response = await ctx.http.send({
      url,
      headers: { "X-OTX-API-KEY": this.options.apiKey },
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    if (response.status === 404) {
      return { provider: this.name, status: "not_found", verdict: "unknown", reason: "not in OTX" };
    }
    if (response.status !== 200) throw providerFailure(this.name, response);
    const parsed = generalResponse().safeParse(response.json);
    if (!parsed.success) throw new ProviderError("otx answered with an unexpected body");
    const pulses = parsed.data.pulse_info?.count ?? 0;
    const allowListed = (parsed.data.validation ?? []).length > 0;
    const link = `https://otx.alienvault.com/indicator/${section.toLowerCase()}/${encodeURIComponent(value)}`;
    if (allowListed) {
      const sources = (parsed.data.validation ?? []).map((v) => v.source ?? v.message ?? "allow list");
      return {
        provider: this.name,
        status: "ok",
        verdict: "benign",
        score: 0,
        reason: `allow-listed by OTX validation (${sources.join(", ")})`,
        link,
      };
    }
    if (pulses === 0) {
      return {
        provider: this.name,
        status: "not_found",
        verdict: "unknown",
        reason: "in no OTX pulse",
        link,
      };
    }
    const score = pulses >= 5 ? 85 : 55 + pulses * 5;
    const tags = [...new Set((parsed.data.pulse_info?.pulses ?? []).flatMap((p) => p.tags ?? []))].slice(
      0,
      10,
    );
    return {
      provider: this.name,
      status: "ok",
      verdict: score >= 70 ? "malicious" : "suspicious",
      score,
      reason: `named in ${pulses} OTX pulse(s)`,
      ...(tags.length > 0 ? { tags } : {}),
      link,
    };
  }
}
