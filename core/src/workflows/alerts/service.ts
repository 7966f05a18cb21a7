import type { DedupeService } from "../../dedupe/service.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import { AlertIngestor } from "./ingest.js";
import { type AlertMetrics, CountingAlertMetrics } from "./metrics.js";
import type { NormalisedAlert } from "./ocsf.js";
import { type WebhookSource, WebhookSourceStore } from "./sources.js";
import { AlertStore } from "./store.js";

export interface AlertsSettings {
  /** Same fingerprint within this window merges into one alert (default 1 day). */
  dedupeWindowMs?: number;
  /** Alerts sharing an observable within this window are related (default 1 day). */
  relatedWindowMs?: number;
  /** Sources from configuration (read-only). */
  sources?: WebhookSource[];
}

/** The pieces of the alerts workflow the API and the runtime share. */
export interface AlertsWorkflow {
  sources: WebhookSourceStore;
  store: AlertStore;
  ingestor: AlertIngestor;
  metrics: AlertMetrics;
}

export function createAlertsWorkflow(deps: {
  kv: KeyValue;
  clock: Clock;
  dedupe: DedupeService;
  toleranceMs: number;
  settings?: AlertsSettings;
  metrics?: AlertMetrics;
  startTriage(alert: NormalisedAlert, sourceId: string): Promise<{ runId: string }>;
}): AlertsWorkflow {
  const sources = new WebhookSourceStore(deps.kv, deps.clock, deps.settings?.sources ?? []);
  const store = new AlertStore(deps.kv, deps.clock);
  const metrics = deps.metrics ?? new CountingAlertMetrics();
  const ingestor = new AlertIngestor({
    kv: deps.kv,
    clock: deps.clock,
    dedupe: deps.dedupe,
    sources,
    store,
    startTriage: deps.startTriage,
    metrics,
    defaults: {
      toleranceMs: deps.toleranceMs,
      dedupeWindowMs: deps.settings?.dedupeWindowMs ?? 86_400_000,
      relatedWindowMs: deps.settings?.relatedWindowMs ?? 86_400_000,
    },
  });
  return { sources, store, ingestor, metrics };
}
