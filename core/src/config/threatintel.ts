import * as z from "zod/mini";
import { httpUrl, nonNegativeInt, positiveInt, setting, text } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `threatintel` section: the providers behind `threatintel.ip|domain|url|hash`. A networked provider
 * is used when its API key is set (GreyNoise community also with `enabled` and no key); the offline
 * feed when `feeds` names files. Base URLs are settable so tests and proxies can stand in for the APIs.
 */

export const threatIntelSection = configSection("threatintel", () =>
  z.strictObject({
    feeds: setting(z._default(z.array(text()), []), {
      env: "AAT_THREATINTEL_FEEDS",
      description:
        "Offline indicator feed files (CSV or JSON, see docs/tools.md), read at start. examples/threatintel/sample-feed.csv is a sample using documentation addresses.",
      path: true,
      example: "examples/threatintel/sample-feed.csv",
    }),
    cacheTtlMs: setting(z._default(positiveInt(), 3_600_000), {
      env: "AAT_THREATINTEL_CACHE_TTL_MS",
      description: "How long a provider's answer for an indicator is reused from the KV store.",
    }),
    timeoutMs: setting(z._default(positiveInt(), 8_000), {
      env: "AAT_THREATINTEL_TIMEOUT_MS",
      description: "Time limit of one provider call; a slower provider is reported as degraded.",
    }),
    abuseipdb: configSection("threatintel.abuseipdb", () =>
      z.strictObject({
        apiKey: setting(z.optional(text()), {
          env: "AAT_THREATINTEL_ABUSEIPDB_API_KEY",
          description: "AbuseIPDB APIv2 key; IP lookups use AbuseIPDB when it is set.",
          secret: true,
        }),
        baseUrl: setting(z._default(httpUrl(), "https://api.abuseipdb.com/api/v2"), {
          env: "AAT_THREATINTEL_ABUSEIPDB_BASE_URL",
          description: "AbuseIPDB API base URL.",
        }),
        maxAgeInDays: setting(z._default(positiveInt().check(z.maximum(365)), 90), {
          env: "AAT_THREATINTEL_ABUSEIPDB_MAX_AGE_DAYS",
          description: "Only reports newer than this count (the API's maxAgeInDays).",
        }),
        perMinute: setting(z._default(nonNegativeInt(), 30), {
          env: "AAT_THREATINTEL_ABUSEIPDB_PER_MINUTE",
          description: "AbuseIPDB lookups per minute across all replicas; 0 is unlimited.",
        }),
      }),
    ),
    virustotal: configSection("threatintel.virustotal", () =>
      z.strictObject({
        apiKey: setting(z.optional(text()), {
          env: "AAT_THREATINTEL_VIRUSTOTAL_API_KEY",
          description:
            "VirusTotal API v3 key; IP, domain, URL and hash lookups use VirusTotal when it is set.",
          secret: true,
        }),
        baseUrl: setting(z._default(httpUrl(), "https://www.virustotal.com/api/v3"), {
          env: "AAT_THREATINTEL_VIRUSTOTAL_BASE_URL",
          description: "VirusTotal API base URL.",
        }),
        perMinute: setting(z._default(nonNegativeInt(), 4), {
          env: "AAT_THREATINTEL_VIRUSTOTAL_PER_MINUTE",
          description:
            "VirusTotal lookups per minute across all replicas (the public API allows 4); 0 is unlimited.",
        }),
      }),
    ),
    otx: configSection("threatintel.otx", () =>
      z.strictObject({
        apiKey: setting(z.optional(text()), {
          env: "AAT_THREATINTEL_OTX_API_KEY",
          description: "AlienVault OTX key; IP, domain, URL and hash lookups use OTX when it is set.",
          secret: true,
        }),
        baseUrl: setting(z._default(httpUrl(), "https://otx.alienvault.com/api/v1"), {
          env: "AAT_THREATINTEL_OTX_BASE_URL",
          description: "AlienVault OTX API base URL.",
        }),
        perMinute: setting(z._default(nonNegativeInt(), 60), {
          env: "AAT_THREATINTEL_OTX_PER_MINUTE",
          description: "OTX lookups per minute across all replicas; 0 is unlimited.",
        }),
      }),
    ),
    greynoise: configSection("threatintel.greynoise", () =>
      z.strictObject({
        enabled: setting(z._default(z.boolean(), false), {
          env: "AAT_THREATINTEL_GREYNOISE_ENABLED",
          description:
            "Use the GreyNoise Community API for IP lookups even without a key (it allows a few lookups a day).",
        }),
        apiKey: setting(z.optional(text()), {
          env: "AAT_THREATINTEL_GREYNOISE_API_KEY",
          description: "GreyNoise API key; IP lookups use GreyNoise Community when it is set.",
          secret: true,
        }),
        baseUrl: setting(z._default(httpUrl(), "https://api.greynoise.io/v3"), {
          env: "AAT_THREATINTEL_GREYNOISE_BASE_URL",
          description: "GreyNoise API base URL.",
        }),
        perMinute: setting(z._default(nonNegativeInt(), 10), {
          env: "AAT_THREATINTEL_GREYNOISE_PER_MINUTE",
          description: "GreyNoise lookups per minute across all replicas; 0 is unlimited.",
        }),
      }),
    ),
  }),
);

export type ThreatIntelConfig = z.output<typeof threatIntelSection>;
