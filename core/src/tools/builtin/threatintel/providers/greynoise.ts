import * as z from "zod/mini";
import { installZodDefaults } from "../../../../zod-defaults.js";
import { onFirstUse } from "../../../first-use.js";
import type { IndicatorType, LookupContext, ProviderResult, ThreatIntelProvider } from "../types.js";
import { ProviderError } from "../types.js";
import { providerFailure } from "./http-errors.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface GreyNoiseOptions {
  /** Optional: the community API answers without a key, at a lower daily quota. */
  apiKey?: string;
  /** Default https://api.greynoise.io/v3. */
  baseUrl: string;
}

/** `GET /v3/community/{ip}`: `{ ip, noise, riot, classification, name, link, last_seen, message }`. */
// Built on the first lookup (../../../first-use.ts).
const communityResponse = onFirstUse(() =>
  z.object({
    ip: z.optional(z.string()),
    noise: z.optional(z.boolean()),
    riot: z.optional(z.boolean()),
    classification: z.optional(z.string()),
    name: z.optional(z.string()),
    link: z.optional(z.string()),
    last_seen: z.optional(z.string()),
    message: z.optional(z.string()),
  }),
);

/**
 * GreyNoise Community API: `GET {baseUrl}/community/{ip}`, key (when given) in the `key` header.
 * classification malicious → 80; benign or RIOT (a known business service) → 0; noise of unknown intent
 * → 40 (a mass scanner, not targeted); 404 "IP not observed" is "not found".
 */
export class GreyNoiseProvider implements ThreatIntelProvider {
  readonly name = "greynoise";

  constructor(private readonly options: GreyNoiseOptions) {}

  supports(type: IndicatorType): boolean {
    return type === "ip";
  }

  async lookup(_type: IndicatorType, ip: string, ctx: LookupContext): Promise<ProviderResult> {
    const url = `${this.options.baseUrl.replace(/\/$/, "")}/community/${encodeURIComponent(ip)}`;
    const response = await ctx.http.send({
      url,
      headers: this.options.apiKey ? { key: this.options.apiKey } : {},
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    if (response.status === 404) {
      return {
        provider: this.name,
        status: "not_found",
        verdict: "unknown",
        reason: "not observed by GreyNoise",
      };
    }
    if (response.status !== 200) throw providerFailure(this.name, response);
    const parsed = communityResponse().safeParse(response.json);
    if (!parsed.success) throw new ProviderError("greynoise answered with an unexpected body");
    const body = parsed.data;
    const link = body.link ?? `https://viz.greynoise.io/ip/${encodeURIComponent(ip)}`;
    const named = body.name && body.name !== "unknown" ? ` (${body.name})` : "";
    if (body.classification === "malicious") {
      return {
        provider: this.name,
        status: "ok",
        verdict: "malicious",
        score: 80,
        reason: `classified malicious${named}, last seen ${body.last_seen ?? "unknown"}`,
        tags: ["noise"],
        link,
      };
    }
    if (body.riot || body.classification === "benign") {
      return {
        provider: this.name,
        status: "ok",
        verdict: "benign",
        score: 0,
        reason: body.riot ? `a known business service${named} (RIOT)` : `classified benign${named}`,
        ...(body.riot ? { tags: ["riot"] } : {}),
        link,
      };
    }
    if (body.noise) {
      return {
        provider: this.name,
        status: "ok",
        verdict: "suspicious",
        score: 40,
        reason: `internet background noise of unknown intent${named}`,
        tags: ["noise"],
        link,
      };
    }
    return {
      provider: this.name,
      status: "not_found",
      verdict: "unknown",
      reason: body.message ?? "no data",
      link,
    };
  }
}
