import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AatConfig } from "@aat/core";

/** The offline indicator feed shipped with the repository (documentation addresses and names only). */
export const SAMPLE_FEED = fileURLToPath(
  new URL("../../../examples/threatintel/sample-feed.csv", import.meta.url),
);

/**
 * The embedded default (SQLite store, `npm start` with no configuration) triages the sample alerts
 * against the shipped sample feed, so a new user sees a true positive without any API key. It applies
 * only when no threat-intel provider is configured at all: any feed, API key or GreyNoise `enabled`
 * replaces it, and a networked store (Redis, …) never gets it — that is a deployment, not a trial.
 */
export function withDefaultThreatIntel(config: AatConfig): { config: AatConfig; sampleFeed?: string } {
  const ti = config.threatintel;
  const anyProvider =
    ti.feeds.length > 0 ||
    Boolean(ti.abuseipdb.apiKey || ti.virustotal.apiKey || ti.otx.apiKey || ti.greynoise.apiKey) ||
    ti.greynoise.enabled;
  if (anyProvider || config.kv.kind !== "sqlite" || !existsSync(SAMPLE_FEED)) return { config };
  return { config: { ...config, threatintel: { ...ti, feeds: [SAMPLE_FEED] } }, sampleFeed: SAMPLE_FEED };
}
