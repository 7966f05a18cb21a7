import * as z from "zod/mini";
import { installZodDefaults } from "../../../zod-defaults.js";
import { onFirstUse } from "../../first-use.js";
import type { Tool, ToolSchema } from "../../types.js";
import type { ThreatIntelService } from "./service.js";
import { type Enrichment, enrichmentSchema, type IndicatorType } from "./types.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

// Built on first use (../../first-use.ts).
const inputs = onFirstUse(() => ({
  ip: z.strictObject({
    // node:net loaded when an address is checked, not at import (see ../http/transport.ts).
    ip: z
      .string()
      .check(
        z.refine(
          (v) => process.getBuiltinModule("node:net").isIP(v.trim()) !== 0,
          "must be an IPv4 or IPv6 address",
        ),
      ),
  }),
  domain: z.strictObject({
    domain: z
      .string()
      .check(
        z.trim(),
        z.regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+\.?$/i, "must be a domain name such as evil.example.com"),
      ),
  }),
  url: z.strictObject({
    url: z.url({ protocol: /^(https?|ftp)$/, error: "must be an absolute http(s) or ftp URL" }),
  }),
  hash: z.strictObject({
    hash: z
      .string()
      .check(
        z.trim(),
        z.regex(/^([a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$/i, "must be an MD5, SHA-1 or SHA-256 hex digest"),
      ),
  }),
}));

const WHAT: Record<IndicatorType, string> = {
  ip: "an IP address",
  domain: "a domain name",
  url: "a URL",
  hash: "a file hash (MD5, SHA-1 or SHA-256)",
};

/**
 * `threatintel.ip`, `.domain`, `.url`, `.hash`: reputation of one indicator from every configured
 * provider (offline feed, AbuseIPDB, VirusTotal, OTX, GreyNoise), with the worst verdict, the highest
 * score, and per provider its answer or why it is degraded.
 */
export function threatIntelTools(service: ThreatIntelService, timeoutMs: number): Tool[] {
  return (Object.keys(WHAT) as IndicatorType[]).map((type) => threatIntelTool(service, type, timeoutMs));
}

function threatIntelTool(service: ThreatIntelService, type: IndicatorType, timeoutMs: number): Tool {
  const tool: Tool<Record<string, string>, Enrichment> = {
    name: `threatintel.${type}`,
    description: `Look up the reputation of ${WHAT[type]} in the configured threat-intel providers (${service.providerNames.join(", ") || "none configured"}). Returns verdict (malicious, suspicious, benign, unknown), score 0-100 and each provider's answer; a provider that is down or rate-limited is reported as degraded, never as an error.`,
    get input() {
      return inputs()[type] as ToolSchema<Record<string, string>>;
    },
    get output() {
      return enrichmentSchema();
    },
    capabilities: ["network.egress"],
    // Providers run in parallel, each within timeoutMs; the backstop leaves room for the cache round trips.
    timeoutMs: timeoutMs + 5_000,
    run: (args, ctx) => service.enrich(type, args[type]!, ctx.signal),
  };
  return tool as Tool;
}
