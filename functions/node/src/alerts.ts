import {
  type AlertMetrics,
  AlertStore,
  AuditLog,
  type Clock,
  CountingAlertMetrics,
  type KeyValue,
  type RunEvent,
  type Runner,
  TriageStatusHook,
} from "@aat/core";
import type { RuntimeLogger } from "./logger.js";

/**
 * The alerts workflow's runtime side: its counters (shared with the API's ingestion) and the runner
 * event hook that moves an alert's status with its triage run. The counters are in-process
 * (CountingAlertMetrics, served at /v1/alert-metrics) until they are registered with the runtime's
 * /metrics registry — the seam is the AlertMetrics interface.
 */
export function alertsRuntime(deps: {
  kv: KeyValue;
  clock: Clock;
  logger: RuntimeLogger;
  runner: () => Runner;
}): {
  metrics: AlertMetrics;
  onEvent: (runId: string, seq: number, event: RunEvent) => void;
} {
  const metrics = new CountingAlertMetrics();
  const audit = new AuditLog(deps.kv, deps.clock);
  const hook = new TriageStatusHook({
    kv: deps.kv,
    store: new AlertStore(deps.kv),
    clock: deps.clock,
    metrics,
    loadRun: (runId) => deps.runner().load(runId),
    audit: async (entry) => {
      await audit.record({ ...entry, result: "ok", status: 200, requestId: entry.who });
    },
    onError: (error) =>
      deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "alert status update from a triage run failed",
      ),
  });
  return { metrics, onEvent: hook.onEvent };
}
