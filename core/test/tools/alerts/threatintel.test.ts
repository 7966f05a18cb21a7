import { fileURLToPath } from "node:url";
import { MemoryKeyValue } from "@aat/adapter-memory";
import {
  actionsSection,
  alertTools,
  callTool,
  type Enrichment,
  FeedError,
  FeedProvider,
  ManualClock,
  readFeedFile,
  type Tool,
  threatIntelSection,
} from "@aat/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as recorded from "./recorded.js";
import { RecordingServer } from "./recording-server.js";

const SAMPLE_CSV = fileURLToPath(
  new URL("../../../../examples/threatintel/sample-feed.csv", import.meta.url),
);
const SAMPLE_JSON = fileURLToPath(
  new URL("../../../../examples/threatintel/sample-feed.json", import.meta.url),
);

function call(tools: Tool[], name: string, input: unknown): Promise<Enrichment> {
  const tool = tools.find((t) => t.name === name)!;
  return callTool(tool, input, {
    runId: "run-1",
    stepKey: "enrich",
    attempt: 1,
    idempotencyKey: "run-1/enrich/1",
    signal: new AbortController().signal,
  }) as Promise<Enrichment>;
}

function byProvider(result: Enrichment, name: string) {
  return result.providers.find((p) => p.provider === name);
}

describe("offline indicator feed", () => {
  it("reads the shipped CSV and JSON samples", () => {
    expect(readFeedFile(SAMPLE_CSV).length).toBeGreaterThanOrEqual(12);
    expect(readFeedFile(SAMPLE_JSON)).toHaveLength(4);
  });

  it("matches addresses, CIDR blocks (most specific first), parent domains, URL hosts and hashes", async () => {
    const feed = FeedProvider.fromFiles([SAMPLE_CSV]);
    expect(await feed.lookup("ip", "203.0.113.66")).toMatchObject({ verdict: "malicious", score: 95 });
    expect(await feed.lookup("ip", "203.0.113.7")).toMatchObject({ verdict: "suspicious", score: 50 });
    expect(await feed.lookup("ip", "198.51.100.10")).toMatchObject({ verdict: "benign", score: 0 });
    expect(await feed.lookup("ip", "192.0.2.200")).toMatchObject({ status: "not_found", verdict: "unknown" });
    expect((await feed.lookup("domain", "cdn.MALWARE.example.com")).reason).toContain(
      "parent domain malware.example.com",
    );
    expect(await feed.lookup("url", "http://malware.example.com/other")).toMatchObject({
      verdict: "malicious",
      score: 92,
    });
    expect(await feed.lookup("hash", "44D88612FEA8A8F36DE82E1278ABB02F")).toMatchObject({
      verdict: "malicious",
      score: 100,
    });
  });

  it("reports every bad line of a feed with its line number and field", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "feed-")), "bad.csv");
    writeFileSync(
      file,
      "type,value,verdict\nip,203.0.113.300,malicious\nmac,aa:bb,malicious\nhash,abc,maybe\n",
    );
    const error = (() => {
      try {
        readFeedFile(file);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(FeedError);
    expect(error?.message).toContain("bad.csv:2 value");
    expect(error?.message).toContain("bad.csv:3 type");
    expect(error?.message).toContain("bad.csv:4 verdict");
  });
});

describe("threatintel tools against recorded provider responses", () => {
  let server: RecordingServer;
  let kv: MemoryKeyValue;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(Date.parse("2026-11-26T10:00:00Z"));
    kv = new MemoryKeyValue({ clock });
    server = await new RecordingServer()
      .route((r) =>
        r.url.startsWith("/abuseipdb/check?ipAddress=203.0.113.66")
          ? { body: recorded.abuseIpDbCheck }
          : undefined,
      )
      .route((r) =>
        r.url.startsWith("/abuseipdb/check?ipAddress=198.51.100.99")
          ? { status: 429, headers: { "retry-after": "120" }, body: recorded.abuseIpDbRateLimited }
          : undefined,
      )
      .route((r) =>
        r.url === "/abuseipdb/check?ipAddress=198.51.100.98&maxAgeInDays=90"
          ? { status: 500, body: "oops" }
          : undefined,
      )
      .route((r) =>
        r.url === "/vt/ip_addresses/198.51.100.23" ? { body: recorded.virusTotalIp } : undefined,
      )
      .route((r) =>
        r.url === "/vt/domains/www.example.org" ? { body: recorded.virusTotalCleanDomain } : undefined,
      )
      .route((r) =>
        r.url.startsWith("/vt/files/") ? { status: 404, body: recorded.virusTotalNotFound } : undefined,
      )
      .route((r) => (r.url.startsWith("/vt/urls/") ? { body: recorded.virusTotalCleanDomain } : undefined))
      .route((r) =>
        r.url === "/otx/indicators/domain/malware.example.com/general"
          ? { body: recorded.otxDomainGeneral }
          : undefined,
      )
      .route((r) =>
        r.url === "/otx/indicators/IPv4/198.51.100.10/general"
          ? { body: recorded.otxAllowListed }
          : undefined,
      )
      .route((r) =>
        r.url === "/greynoise/community/203.0.113.66" ? { body: recorded.greyNoiseMalicious } : undefined,
      )
      .route((r) =>
        r.url.startsWith("/greynoise/community/")
          ? { status: 404, body: recorded.greyNoiseNotObserved }
          : undefined,
      )
      .start();
  });

  afterEach(() => server.stop());

  function tools(overrides: Record<string, unknown> = {}): Tool[] {
    return alertTools({
      threatintel: threatIntelSection.parse({
        abuseipdb: { apiKey: "abuse-key", baseUrl: `${server.url}/abuseipdb` },
        virustotal: { apiKey: "vt-key", baseUrl: `${server.url}/vt`, perMinute: 0 },
        otx: { apiKey: "otx-key", baseUrl: `${server.url}/otx` },
        greynoise: { apiKey: "gn-key", baseUrl: `${server.url}/greynoise` },
        ...overrides,
      }),
      actions: actionsSection.parse({}),
      allowHosts: ["127.0.0.1"],
      kv,
      clock,
    });
  }

  it("asks every provider that supports an IP, with each API's key header, and takes the worst verdict", async () => {
    const result = await call(tools(), "threatintel.ip", { ip: "203.0.113.66" });
    expect(result).toMatchObject({
      indicator: "203.0.113.66",
      type: "ip",
      verdict: "malicious",
      score: 100,
      degraded: false,
    });
    expect(byProvider(result, "abuseipdb")).toMatchObject({ status: "ok", score: 100, verdict: "malicious" });
    expect(byProvider(result, "greynoise")).toMatchObject({ status: "ok", score: 80, verdict: "malicious" });
    expect(byProvider(result, "virustotal")).toMatchObject({ status: "not_found" });
    const abuse = server.requests.find((r) => r.url.startsWith("/abuseipdb/"))!;
    expect(abuse.url).toBe("/abuseipdb/check?ipAddress=203.0.113.66&maxAgeInDays=90");
    expect(abuse.headers.key).toBe("abuse-key");
    expect(server.requests.find((r) => r.url.startsWith("/vt/"))?.headers["x-apikey"]).toBe("vt-key");
    expect(server.requests.find((r) => r.url.startsWith("/otx/"))?.headers["x-otx-api-key"]).toBe("otx-key");
    expect(server.requests.find((r) => r.url.startsWith("/greynoise/"))?.headers.key).toBe("gn-key");
  });

  it("reads VirusTotal analysis stats, OTX pulses and allow-list validation", async () => {
    const t = tools();
    const vt = await call(t, "threatintel.ip", { ip: "198.51.100.23" });
    expect(byProvider(vt, "virustotal")).toMatchObject({ status: "ok", verdict: "malicious", score: 100 });
    expect(byProvider(vt, "virustotal")?.reason).toContain("9 of 94 engines");
    const domain = await call(t, "threatintel.domain", { domain: "malware.example.com" });
    expect(byProvider(domain, "otx")).toMatchObject({ status: "ok", verdict: "malicious", score: 85 });
    expect(byProvider(domain, "otx")?.tags).toContain("dropper");
    const clean = await call(t, "threatintel.domain", { domain: "www.example.org" });
    expect(clean).toMatchObject({ verdict: "benign", score: 0 });
    const allowListed = await call(t, "threatintel.ip", { ip: "198.51.100.10" });
    expect(byProvider(allowListed, "otx")).toMatchObject({ verdict: "benign", score: 0 });
    const file = await call(t, "threatintel.hash", { hash: "0123456789abcdef0123456789abcdef" });
    expect(file).toMatchObject({ verdict: "unknown", score: null, degraded: false });
    await call(t, "threatintel.url", { url: "http://malware.example.com/payload.exe" });
    const urlRequest = server.requests.find((r) => r.url.startsWith("/vt/urls/"))!;
    expect(urlRequest.url).toBe(
      `/vt/urls/${Buffer.from("http://malware.example.com/payload.exe").toString("base64url")}`,
    );
  });

  it("caches each provider's answer in KV until the TTL passes", async () => {
    const t = tools({ cacheTtlMs: 60_000 });
    await call(t, "threatintel.ip", { ip: "203.0.113.66" });
    const asked = server.requests.length;
    const again = await call(t, "threatintel.ip", { ip: "203.0.113.66" });
    expect(server.requests.length).toBe(asked);
    expect(byProvider(again, "abuseipdb")).toMatchObject({ cached: true, score: 100 });
    clock.advance(61_000);
    await call(t, "threatintel.ip", { ip: "203.0.113.66" });
    expect(server.requests.length).toBe(asked * 2);
  });

  it("degrades, never fails, when a provider is rate-limited (and backs off for Retry-After) or broken", async () => {
    const t = tools();
    const limited = await call(t, "threatintel.ip", { ip: "198.51.100.99" });
    expect(limited.degraded).toBe(true);
    expect(byProvider(limited, "abuseipdb")).toMatchObject({ status: "degraded" });
    expect(byProvider(limited, "abuseipdb")?.reason).toContain("rate limit");
    // Backing off: the next lookup does not call AbuseIPDB at all for 120 s.
    const before = server.requests.filter((r) => r.url.startsWith("/abuseipdb/")).length;
    const next = await call(t, "threatintel.ip", { ip: "203.0.113.66" });
    expect(server.requests.filter((r) => r.url.startsWith("/abuseipdb/")).length).toBe(before);
    expect(byProvider(next, "abuseipdb")?.reason).toContain("back off");
    expect(byProvider(next, "greynoise")).toMatchObject({ status: "ok" });
    clock.advance(121_000);
    const broken = await call(t, "threatintel.ip", { ip: "198.51.100.98" });
    expect(byProvider(broken, "abuseipdb")).toMatchObject({ status: "degraded" });
    expect(byProvider(broken, "abuseipdb")?.reason).toContain("HTTP 500");
  });

  it("keeps to the per-minute budget, shared through KV, and reports the setting to raise", async () => {
    const t = tools({
      abuseipdb: { apiKey: "k", baseUrl: `${server.url}/abuseipdb`, perMinute: 2 },
      cacheTtlMs: 1,
    });
    const results = [];
    for (const ip of ["203.0.113.66", "198.51.100.98", "203.0.113.66"]) {
      clock.advance(2);
      results.push(await call(t, "threatintel.ip", { ip }));
    }
    expect(results.map((r) => byProvider(r, "abuseipdb")?.status)).toEqual(["ok", "degraded", "degraded"]);
    expect(byProvider(results[2]!, "abuseipdb")?.reason).toContain("threatintel.abuseipdb.perMinute");
    clock.advance(60_000);
    expect(byProvider(await call(t, "threatintel.ip", { ip: "203.0.113.66" }), "abuseipdb")?.status).toBe(
      "ok",
    );
  });

  it("shares the budget and the cache between replicas that use the same KV store", async () => {
    const settings = { abuseipdb: { apiKey: "k", baseUrl: `${server.url}/abuseipdb`, perMinute: 1 } };
    const replicaA = tools(settings);
    const replicaB = tools(settings);
    expect(
      byProvider(await call(replicaA, "threatintel.ip", { ip: "203.0.113.66" }), "abuseipdb")?.status,
    ).toBe("ok");
    // Replica B gets A's cached answer, then finds the shared budget used up for a new address.
    expect(
      byProvider(await call(replicaB, "threatintel.ip", { ip: "203.0.113.66" }), "abuseipdb")?.cached,
    ).toBe(true);
    expect(
      byProvider(await call(replicaB, "threatintel.ip", { ip: "198.51.100.98" }), "abuseipdb")?.status,
    ).toBe("degraded");
    expect(server.requests.filter((r) => r.url.startsWith("/abuseipdb/"))).toHaveLength(1);
  });

  it("degrades a provider whose host the SSRF guard refuses", async () => {
    const result = await call(
      alertTools({
        threatintel: threatIntelSection.parse({
          abuseipdb: { apiKey: "k", baseUrl: `${server.url}/abuseipdb` },
        }),
        actions: actionsSection.parse({}),
        allowHosts: [],
        kv,
        clock,
      }),
      "threatintel.ip",
      { ip: "203.0.113.66" },
    );
    expect(byProvider(result, "abuseipdb")).toMatchObject({ status: "degraded" });
    expect(byProvider(result, "abuseipdb")?.reason).toContain("http.allowHosts");
    expect(server.requests).toHaveLength(0);
  });

  it("combines the offline feed with networked providers and rejects malformed indicators", async () => {
    const t = tools({ feeds: [SAMPLE_CSV] });
    const result = await call(t, "threatintel.ip", { ip: "198.51.100.10" });
    expect(byProvider(result, "feed")).toMatchObject({ verdict: "benign", score: 0 });
    await expect(call(t, "threatintel.ip", { ip: "not-an-ip" })).rejects.toThrow(
      /ip: must be an IPv4 or IPv6 address/,
    );
    await expect(call(t, "threatintel.hash", { hash: "xyz" })).rejects.toThrow(/MD5, SHA-1 or SHA-256/);
  });
});
