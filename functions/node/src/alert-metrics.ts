import type { AlertMetrics } from "@aat/core";
import { Counter, Histogram, type Registry } from "prom-client";

/** Threat-intel lookups as ThreatIntelService reports them (AlertToolsOptions.onLookup). */
export interface LookupEvent {
  provider: string;
  status: string;
  ms: number;
  cached: boolean;
}

/**
 * The alerts workflow's metrics on the runtime's /metrics registry: alerts ingested, duplicates merged,
 * deliveries rejected by reason, ingestion-to-triage-start latency and enrichment time per provider.
 */
export class PrometheusAlertMetrics implements AlertMetrics {
  private readonly ingestedTotal: Counter<"source" | "format">;
  private readonly duplicates: Counter<"source">;
  private readonly rejectedTotal: Counter<"source" | "reason">;
  private readonly latency: Histogram;
  private readonly lookups: Histogram<"provider" | "status" | "cached">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.ingestedTotal = new Counter({
      name: "aat_alerts_ingested_total",
      help: "Alerts stored from webhook deliveries (new alerts, not merged duplicates).",
      labelNames: ["source", "format"],
      registers,
    });
    this.duplicates = new Counter({
      name: "aat_alerts_duplicates_merged_total",
      help: "Deliveries merged into an existing alert with the same fingerprint (count and last_seen bumped).",
      labelNames: ["source"],
      registers,
    });
    this.rejectedTotal = new Counter({
      name: "aat_alerts_rejected_total",
      help: "Webhook deliveries refused, by reason (bad_signature, stale_timestamp, replayed_signature, …).",
      labelNames: ["source", "reason"],
      registers,
    });
    this.latency = new Histogram({
      name: "aat_alerts_triage_start_latency_seconds",
      help: "From receipt of an alert to the start of its triage run.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.lookups = new Histogram({
      name: "aat_enrichment_lookup_seconds",
      help: "Time of one threat-intel provider answer, by provider, status and whether it came from the cache.",
      labelNames: ["provider", "status", "cached"],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  ingested(source: string, format: string): void {
    this.ingestedTotal.inc({ source, format });
  }
  duplicate(source: string): void {
    this.duplicates.inc({ source });
  }
  rejected(source: string, reason: string): void {
    this.rejectedTotal.inc({ source, reason });
  }
  triageStartLatency(ms: number): void {
    this.latency.observe(ms / 1000);
  }
  lookup(event: LookupEvent): void {
    this.lookups.observe(
      { provider: event.provider, status: event.status, cached: String(event.cached) },
      event.ms / 1000,
    );
  }
}

/** Every call goes to each of `targets` (the /metrics registry and the /v1/alert-metrics counters). */
export function fanOutAlertMetrics(...targets: AlertMetrics[]): AlertMetrics {
  return {
    ingested: (source, format) => {
      for (const t of targets) t.ingested(source, format);
    },
    duplicate: (source) => {
      for (const t of targets) t.duplicate(source);
    },
    rejected: (source, reason) => {
      for (const t of targets) t.rejected(source, reason);
    },
    triageStartLatency: (ms) => {
      for (const t of targets) t.triageStartLatency(ms);
    },
  };
}
