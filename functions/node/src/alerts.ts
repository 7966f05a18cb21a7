import {
  type AlertMetrics,
  AlertStore,
  AuditLog,
  type Clock,
  CountingAlertMetrics,
  type KeyValue,
  type RunEvent,
  type RunState,
  TriageStatusHook,
} from "@aat/core";
import { fanOutAlertMetrics } from "./alert-metrics.js";
import type { RuntimeLogger } from "./logger.js";

/**
 * The alerts workflow's runtime side: its counters (shared with the API's ingestion) and the runner
 * event hook that moves an alert's status with its triage run. The counters go to the runtime's
 * /metrics registry (`exported`, when telemetry.metrics is on) and to in-process counters served as a
 * summary at /v1/alert-metrics (readers' API key, no metrics listener needed).
 */
export function alertsRuntime(deps: {
  kv: KeyValue;
  clock: Clock;
  logger: RuntimeLogger;
  exported?: AlertMetrics;
}): {
  metrics: AlertMetrics;
  onEvent: (runId: string, seq: number, event: RunEvent) => void;
  onRunFinished: (state: RunState) => Promise<void>;
} {
  const counting = new CountingAlertMetrics();
  const metrics: AlertMetrics = deps.exported
    ? Object.assign(fanOutAlertMetrics(counting, deps.exported), { render: () => counting.render() })
    : counting;
  const audit = new AuditLog(deps.kv, deps.clock);
  const hook = new TriageStatusHook({
    kv: deps.kv,
    store: new AlertStore(deps.kv, deps.clock),
    clock: deps.clock,
    metrics,
    audit: async (entry) => {
      await audit.record({ ...entry, result: "ok", status: 200, requestId: entry.who });
    },
    onError: (error) =>
      deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "alert status update from a triage run failed",
      ),
  });
  return { metrics, onEvent: hook.onEvent, onRunFinished: hook.onRunFinished };
}
