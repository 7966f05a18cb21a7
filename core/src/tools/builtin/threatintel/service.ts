import { type Clock, systemClock } from "../../../ports/clock.js";
import type { KeyValue } from "../../../ports/kv.js";
import type { EgressClient } from "../egress/client.js";
import {
  type Enrichment,
  type IndicatorType,
  ProviderError,
  type ProviderResult,
  type ThreatIntelProvider,
  VERDICTS,
  type Verdict,
} from "./types.js";

export interface ProviderLimits {
  /** Lookups per minute across all replicas (they share the KV store); 0 means unlimited. */
  perMinute: number;
}

export interface ThreatIntelServiceOptions {
  kv: KeyValue;
  http: EgressClient;
  providers: ReadonlyArray<{ provider: ThreatIntelProvider; limits?: ProviderLimits; cache?: boolean }>;
  /** How long a provider's answer is reused (not-found answers too; degraded ones never). */
  cacheTtlMs: number;
  /** Time limit of one provider call. */
  timeoutMs: number;
  /** How long a provider that answered 429 without Retry-After is left alone. */
  defaultBackoffMs?: number;
  clock?: Clock;
  /** Called once per provider answer, for metrics (enrichment time per provider). */
  onLookup?: (event: {
    provider: string;
    status: ProviderResult["status"];
    ms: number;
    cached: boolean;
  }) => void;
}

const PREFIX = "threatintel";
const WINDOW_MS = 60_000;
const RANK: Record<Verdict, number> = { malicious: 3, suspicious: 2, benign: 1, unknown: 0 };

/**
 * Looks an indicator up at every provider that supports its type, in parallel. Each provider's answer
 * is cached in KV for `cacheTtlMs`; each networked provider has a per-minute budget counted in KV (a
 * fixed window, shared by replicas) and backs off after a 429. A provider that is over budget, backing
 * off, failing or slow is reported as `degraded` with the reason: the enrichment never fails because of
 * a provider.
 */
export class ThreatIntelService {
  private readonly clock: Clock;

  constructor(private readonly options: ThreatIntelServiceOptions) {
    this.clock = options.clock ?? systemClock;
  }

  get providerNames(): string[] {
    return this.options.providers.map((p) => p.provider.name);
  }

  async enrich(type: IndicatorType, rawValue: string, signal: AbortSignal): Promise<Enrichment> {
    const value = canonical(type, rawValue);
    const candidates = this.options.providers.filter((p) => p.provider.supports(type));
    const results = await Promise.all(candidates.map((entry) => this.ask(entry, type, value, signal)));
    const scores = results.map((r) => r.score).filter((s): s is number => s !== undefined);
    const verdict = results.reduce<Verdict>(
      (worst, r) => (RANK[r.verdict] > RANK[worst] ? r.verdict : worst),
      "unknown",
    );
    return {
      indicator: value,
      type,
      verdict,
      score: scores.length > 0 ? Math.max(...scores) : null,
      degraded: results.some((r) => r.status === "degraded"),
      providers: results,
    };
  }

  private async ask(
    entry: ThreatIntelServiceOptions["providers"][number],
    type: IndicatorType,
    value: string,
    signal: AbortSignal,
  ): Promise<ProviderResult> {
    const { provider } = entry;
    const started = performance.now();
    const report = (result: ProviderResult, cached: boolean) => {
      this.options.onLookup?.({
        provider: provider.name,
        status: result.status,
        ms: performance.now() - started,
        cached,
      });
      return result;
    };
    const useCache = entry.cache !== false;
    const cacheKey = `${PREFIX}/cache/${provider.name}/${type}/${digest(value)}`;
    try {
      if (useCache) {
        const hit = await this.options.kv.get<ProviderResult>(cacheKey);
        if (hit && VERDICTS.includes(hit.value.verdict)) return report({ ...hit.value, cached: true }, true);
      }
      const blocked = await this.admit(provider.name, entry.limits);
      if (blocked) return report(degraded(provider.name, blocked), false);
      const result = await provider.lookup(type, value, {
        http: this.options.http,
        signal,
        timeoutMs: this.options.timeoutMs,
      });
      if (useCache) await this.options.kv.set(cacheKey, result, { ttlMs: this.options.cacheTtlMs });
      return report(result, false);
    } catch (error) {
      if (error instanceof ProviderError && error.options.rateLimited) {
        const backoff = error.options.retryAfterMs ?? this.options.defaultBackoffMs ?? WINDOW_MS;
        await this.options.kv
          .set(
            `${PREFIX}/backoff/${provider.name}`,
            { until: this.clock.now() + backoff },
            { ttlMs: Math.max(1, backoff) },
          )
          .catch(() => undefined);
      }
      const reason = error instanceof Error ? error.message : String(error);
      return report(degraded(provider.name, reason), false);
    }
  }

  /** Undefined when the provider may be called now; otherwise why not. */
  private async admit(name: string, limits: ProviderLimits | undefined): Promise<string | undefined> {
    const backoff = await this.options.kv.get<{ until: number }>(`${PREFIX}/backoff/${name}`);
    if (backoff && backoff.value.until > this.clock.now()) {
      return `${name} asked us to back off (rate limited) until ${new Date(backoff.value.until).toISOString()}`;
    }
    if (!limits || limits.perMinute <= 0) return undefined;
    const window = Math.floor(this.clock.now() / WINDOW_MS);
    const used = await this.options.kv.increment(`${PREFIX}/rate/${name}/${window}`, 1, {
      ttlMs: 2 * WINDOW_MS,
    });
    if (used > limits.perMinute) {
      return `${name} lookup budget of ${limits.perMinute} per minute is used up (threatintel.${name}.perMinute)`;
    }
    return undefined;
  }
}

function degraded(provider: string, reason: string): ProviderResult {
  return { provider, status: "degraded", verdict: "unknown", reason };
}

function canonical(type: IndicatorType, value: string): string {
  const trimmed = value.trim();
  if (type === "domain") return trimmed.toLowerCase().replace(/\.$/, "");
  if (type === "hash") return trimmed.toLowerCase();
  return trimmed;
}

function digest(value: string): string {
  // node:crypto costs ~3 ms of a serverless cold start to load; loaded on first use (docs/benchmarks.md, cold start).
  return process
    .getBuiltinModule("node:crypto")
    .createHash("sha256")
    .update(value)
    .digest("hex")
    .slice(0, 32);
}
