import {
  type AlertMetrics,
  type Clock,
  CountingAlertMetrics,
  type KeyValue,
  type RunEvent,
  type RunState,
} from "@aat/core";
import { alertsHook } from "@aat/functions-serverless";
import { fanOutAlertMetrics } from "./alert-metrics.js";
import type { RuntimeLogger } from "./logger.js";

/**
 * The alerts workflow's runtime side: its counters (shared with the API's ingestion) and the runner
 * event hook that moves an alert's status with its triage run (the cloud-neutral hook shared with the
 * serverless targets, @aat/functions-serverless). The counters go to the runtime's /metrics registry
 * (`exported`, when telemetry.metrics is on) and to in-process counters served as a summary at
 * /v1/alert-metrics (readers' API key, no metrics listener needed).
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
  return alertsHook({ kv: deps.kv, clock: deps.clock, logger: deps.logger, metrics });
}
