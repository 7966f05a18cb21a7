import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import * as z from "zod/mini";
import { installZodDefaults } from "../../../../zod-defaults.js";
import { onFirstUse } from "../../../first-use.js";
import type { IndicatorType, ProviderResult, ThreatIntelProvider } from "../types.js";
import { INDICATOR_TYPES, VERDICTS } from "../types.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/**
 * One indicator of an offline feed (docs/tools.md, "Offline indicator feed"). CSV columns and JSON
 * fields are the same: type, value, verdict, then optional score, source, tags (CSV: `;`-separated),
 * description. An `ip` value may be an IPv4 CIDR block; a `domain` covers its subdomains.
 */
const feedEntrySchema = onFirstUse(() =>
  z.strictObject({
    type: z.enum(INDICATOR_TYPES),
    value: z.string().check(z.trim(), z.minLength(1, "must not be empty")),
    verdict: z.enum(VERDICTS),
    score: z.optional(z.coerce.number().check(z.minimum(0), z.maximum(100))),
    source: z.optional(z.string()),
    tags: z.optional(
      z.union([
        z.array(z.string()),
        z.pipe(
          z.string(),
          z.transform((s) =>
            s
              .split(";")
              .map((t) => t.trim())
              .filter(Boolean),
          ),
        ),
      ]),
    ),
    description: z.optional(z.string()),
  }),
);
export type FeedEntry = z.output<ReturnType<typeof feedEntrySchema>>;

// Built when a feed is first read: a deployment without feeds never builds them (docs/benchmarks.md).
const jsonFeed = onFirstUse(() =>
  z.union([z.array(z.unknown()), z.object({ indicators: z.array(z.unknown()) })]),
);

/** A feed file that cannot be read: names the file, the line or entry, and the field. */
export class FeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeedError";
  }
}

const DEFAULT_SCORE: Record<FeedEntry["verdict"], number | undefined> = {
  malicious: 90,
  suspicious: 50,
  benign: 0,
  unknown: undefined,
};

interface Cidr {
  base: number;
  mask: number;
  entry: FeedEntry;
}

/**
 * The offline indicator feed: files read once at start (CSV or JSON by extension), looked up in memory.
 * It needs no network and no key, so triage has evidence even on an air-gapped install.
 */
export class FeedProvider implements ThreatIntelProvider {
  readonly name = "feed";
  private readonly exact = new Map<string, FeedEntry>();
  private readonly cidrs: Cidr[] = [];

  constructor(entries: readonly FeedEntry[]) {
    for (const entry of entries) this.add(entry);
  }

  /** Reads every file; throws a FeedError listing every bad line at once. */
  static fromFiles(paths: readonly string[]): FeedProvider {
    return new FeedProvider(paths.flatMap((path) => readFeedFile(path)));
  }

  get size(): number {
    return this.exact.size + this.cidrs.length;
  }

  supports(): boolean {
    return true;
  }

  async lookup(type: IndicatorType, value: string): Promise<ProviderResult> {
    const hit = this.find(type, value);
    if (!hit)
      return {
        provider: this.name,
        status: "not_found",
        verdict: "unknown",
        reason: "not in the indicator feed",
      };
    const { entry, via } = hit;
    const score = entry.score ?? DEFAULT_SCORE[entry.verdict];
    const detail = [entry.description, entry.source ? `source ${entry.source}` : undefined]
      .filter(Boolean)
      .join("; ");
    return {
      provider: this.name,
      status: "ok",
      verdict: entry.verdict,
      ...(score !== undefined ? { score } : {}),
      reason: `${via}: listed as ${entry.verdict}${detail ? ` (${detail})` : ""}`,
      ...(entry.tags && entry.tags.length > 0 ? { tags: entry.tags } : {}),
    };
  }

  private find(type: IndicatorType, value: string): { entry: FeedEntry; via: string } | undefined {
    if (type === "url") {
      const url = normalise("url", value);
      const direct = this.exact.get(`url:${url}`);
      if (direct) return { entry: direct, via: "the URL" };
      let host: string;
      try {
        host = new URL(value).hostname.replace(/^\[|\]$/g, "");
      } catch {
        return undefined;
      }
      const byHost = isIP(host) ? this.findIp(host) : this.findDomain(host);
      return byHost ? { entry: byHost.entry, via: `its host ${host} (${byHost.via})` } : undefined;
    }
    if (type === "ip") return this.findIp(value);
    if (type === "domain") return this.findDomain(value);
    const entry = this.exact.get(`hash:${normalise("hash", value)}`);
    return entry ? { entry, via: "the hash" } : undefined;
  }

  private findIp(ip: string): { entry: FeedEntry; via: string } | undefined {
    const entry = this.exact.get(`ip:${normalise("ip", ip)}`);
    if (entry) return { entry, via: "the address" };
    if (isIP(ip) !== 4) return undefined;
    const value = ipv4ToInt(ip);
    // The most specific block wins.
    const block = this.cidrs
      .filter((c) => (value & c.mask) >>> 0 === c.base)
      .sort((a, b) => b.mask - a.mask)[0];
    return block ? { entry: block.entry, via: `block ${block.entry.value}` } : undefined;
  }

  private findDomain(domain: string): { entry: FeedEntry; via: string } | undefined {
    const labels = normalise("domain", domain).split(".");
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = labels.slice(i).join(".");
      const entry = this.exact.get(`domain:${candidate}`);
      if (entry) return { entry, via: i === 0 ? "the domain" : `parent domain ${candidate}` };
    }
    return undefined;
  }

  private add(entry: FeedEntry): void {
    if (entry.type === "ip" && entry.value.includes("/")) {
      const [base, bits] = entry.value.split("/");
      const prefix = Number(bits);
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
      this.cidrs.push({ base: (ipv4ToInt(base!) & mask) >>> 0, mask, entry });
      return;
    }
    this.exact.set(`${entry.type}:${normalise(entry.type, entry.value)}`, entry);
  }
}

function normalise(type: IndicatorType, value: string): string {
  const trimmed = value.trim();
  if (type === "url") {
    try {
      return new URL(trimmed).href;
    } catch {
      return trimmed;
    }
  }
  if (type === "domain") return trimmed.toLowerCase().replace(/\.$/, "");
  return trimmed.toLowerCase();
}

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** Entries of one CSV or JSON feed file, checked; every problem is reported with its line or index. */
export function readFeedFile(path: string): FeedEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new FeedError(`threat-intel feed ${path} cannot be read: ${(error as Error).message}`);
  }
  const rows: Array<{ where: string; value: unknown }> = [];
  if (/\.json$/i.test(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new FeedError(`threat-intel feed ${path} is not valid JSON: ${(error as Error).message}`);
    }
    const feed = jsonFeed().safeParse(parsed);
    if (!feed.success) {
      throw new FeedError(
        `threat-intel feed ${path} must be a JSON array of indicators or { "indicators": [...] }`,
      );
    }
    const list = Array.isArray(feed.data) ? feed.data : feed.data.indicators;
    for (const [index, value] of list.entries()) rows.push({ where: `${path} entry ${index}`, value });
  } else {
    let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
    try {
      records = parse(text, {
        columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
        comment: "#",
        skip_empty_lines: true,
        trim: true,
        info: true,
      });
    } catch (error) {
      throw new FeedError(`threat-intel feed ${path} is not valid CSV: ${(error as Error).message}`);
    }
    for (const { record, info } of records) {
      // Empty optional cells are absent, not empty strings.
      const value = Object.fromEntries(Object.entries(record).filter(([, cell]) => cell !== ""));
      rows.push({ where: `${path}:${info.lines}`, value });
    }
  }
  const problems: string[] = [];
  const entries: FeedEntry[] = [];
  for (const { where, value } of rows) {
    const checked = feedEntrySchema().safeParse(value);
    if (!checked.success) {
      const issues = checked.error.issues.map((i) => `${i.path.join(".") || "(entry)"}: ${i.message}`);
      problems.push(`${where} ${issues.join("; ")}`);
      continue;
    }
    const entry = checked.data;
    const valueProblem = checkValue(entry);
    if (valueProblem) problems.push(`${where} value: ${valueProblem}`);
    else entries.push(entry);
  }
  if (problems.length > 0) {
    throw new FeedError(
      `threat-intel feed has invalid entries (fix or remove them):\n${problems.join("\n")}`,
    );
  }
  return entries;
}

function checkValue(entry: FeedEntry): string | undefined {
  if (entry.type === "ip") {
    const [address, bits, extra] = entry.value.split("/");
    if (extra !== undefined || !isIP(address ?? ""))
      return `"${entry.value}" is not an IP address or IPv4 CIDR block`;
    if (bits !== undefined && (isIP(address!) !== 4 || !/^\d+$/.test(bits) || Number(bits) > 32)) {
      return `"${entry.value}" is not an IPv4 CIDR block (a.b.c.d/0-32)`;
    }
  }
  if (entry.type === "hash" && !/^([a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64})$/i.test(entry.value)) {
    return `"${entry.value}" is not an MD5, SHA-1 or SHA-256 hex digest`;
  }
  if (entry.type === "url" && !URL.canParse(entry.value)) return `"${entry.value}" is not an absolute URL`;
  if (entry.type === "domain" && !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(entry.value)) {
    return `"${entry.value}" is not a domain name`;
  }
  return undefined;
}

/** node:net's isIP, with node:net loaded on first use (see ../../http/transport.ts). */
function isIP(input: string): number {
  return process.getBuiltinModule("node:net").isIP(input);
}
