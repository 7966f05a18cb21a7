import * as z from "zod/mini";
import { installZodDefaults } from "../../../../zod-defaults.js";
import { onFirstUse } from "../../../first-use.js";
import type { IndicatorType, LookupContext, ProviderResult, ThreatIntelProvider } from "../types.js";
import { ProviderError } from "../types.js";
import { providerFailure } from "./http-errors.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface VirusTotalOptions {
  apiKey: string;
  /** Default https://www.virustotal.com/api/v3. */
  baseUrl: string;
}

/** The part of a v3 object (`{ data: { id, type, attributes } }`) this provider reads. */
// Built on the first lookup (../../../first-use.ts).
const objectResponse = onFirstUse(() =>
  z.object({
    data: z.object({
      id: z.string(),
      type: z.string(),
      attributes: z.object({
        last_analysis_stats: z.optional(
          z.partial(
            z.object({
              malicious: z._default(z.number(), 0),
              suspicious: z._default(z.number(), 0),
              harmless: z._default(z.number(), 0),
              undetected: z._default(z.number(), 0),
            }),
          ),
        ),
        reputation: z.optional(z.number()),
        tags: z.optional(z.array(z.string())),
      }),
    }),
  }),
);

const COLLECTION: Record<IndicatorType, string> = {
  ip: "ip_addresses",
  domain: "domains",
  url: "urls",
  hash: "files",
};

const GUI: Record<IndicatorType, string> = { ip: "ip-address", domain: "domain", url: "url", hash: "file" };

/**
 * VirusTotal API v3: `GET {baseUrl}/{ip_addresses|domains|urls|files}/{id}` with the key in `x-apikey`.
 * A URL's id is its unpadded base64url encoding. The score comes from `last_analysis_stats`: 3 or more
 * engines saying malicious is 100·(malicious+suspicious/2)/engines scaled so that 3 detections already
 * reach the malicious threshold (vendors rarely agree unanimously). 404 NotFoundError is "not found".
 */
export class VirusTotalProvider implements ThreatIntelProvider {
  readonly name = "virustotal";

  constructor(private readonly options: VirusTotalOptions) {}

  supports(): boolean {
    return true;
  }

  async lookup(type: IndicatorType, value: string, ctx: LookupContext): Promise<ProviderResult> {
    const id = type === "url" ? Buffer.from(value).toString("base64url") : value;
    const url = `${this.options.baseUrl.replace(/\/$/, "")}/${COLLECTION[type]}/${encodeURIComponent(id)}`;
    const response = await ctx.http.send({
      url,
      headers: { "x-apikey": this.options.apiKey },
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    const link = `https://www.virustotal.com/gui/${GUI[type]}/${encodeURIComponent(id)}`;
    if (response.status === 404) {
      return { provider: this.name, status: "not_found", verdict: "unknown", reason: "not in VirusTotal" };
    }
    if (response.status !== 200) throw providerFailure(this.name, response);
    const parsed = objectResponse().safeParse(response.json);
    if (!parsed.success) throw new ProviderError("virustotal answered without data.attributes");
    const attributes = parsed.data.data.attributes;
    const stats = attributes.last_analysis_stats ?? {};
    const malicious = stats.malicious ?? 0;
    const suspicious = stats.suspicious ?? 0;
    const engines = malicious + suspicious + (stats.harmless ?? 0) + (stats.undetected ?? 0);
    if (engines === 0) {
      return {
        provider: this.name,
        status: "not_found",
        verdict: "unknown",
        reason: "no analysis yet",
        link,
      };
    }
    const score = Math.min(100, Math.round((malicious + suspicious / 2) * (70 / 3)));
    const verdict = malicious >= 3 ? "malicious" : malicious + suspicious > 0 ? "suspicious" : "benign";
    return {
      provider: this.name,
      status: "ok",
      verdict,
      score: verdict === "suspicious" ? Math.max(30, Math.min(score, 69)) : score,
      reason: `${malicious} of ${engines} engines flag it malicious, ${suspicious} suspicious${attributes.reputation !== undefined ? `; community reputation ${attributes.reputation}` : ""}`,
      ...(attributes.tags && attributes.tags.length > 0 ? { tags: attributes.tags.slice(0, 10) } : {}),
      link,
    };
  }
}
