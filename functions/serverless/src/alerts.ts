import type { AuditLog } from "@aat/core/auth";
import type { RunEvent, RunState } from "@aat/core/graph";
import type { Clock, KeyValue } from "@aat/core/ports";
import {
  type AlertMetrics,
  type AlertStore,
  CountingAlertMetrics,
  TriageStatusHook,
} from "@aat/core/workflows/alerts";
import { reusedPerInstance } from "./reuse.js";

/** The logger shape the alerts hook and the serverless composition need (pino and the targets' loggers fit). */
export interface CompositionLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface AlertsHook {
  metrics: AlertMetrics;
  onEvent: (runId: string, seq: number, event: RunEvent) => void;
  /** Returns the status update's promise: the Runner awaits it before the run counts as finished. */
  onRunFinished: (state: RunState) => Promise<void>;
}

/**
 * The cloud-neutral part of the alerts workflow's runtime side: the runner event hook that moves an
 * alert's status with its triage run (audited), counting into `metrics` (in-process counters when none
 * is given). The Node runtime adds its Prometheus counters on top (functions/node/src/alerts.ts).
 *
 * The alert store and the audit log (with their record schemas) are loaded on the first event of a
 * triage run: most functions' runs are not triage runs, and a cold start should not build them.
 */
export function alertsHook(deps: {
  kv: KeyValue;
  clock: Clock;
  logger: Pick<CompositionLogger, "warn">;
  metrics?: AlertMetrics;
}): AlertsHook {
  const metrics = deps.metrics ?? new CountingAlertMetrics();
  const loaded = reusedPerInstance<{ store: AlertStore; audit: AuditLog }>();
  const parts = () =>
    loaded(async () => {
      const { AlertStore, AuditLog } = await import("./alert-records.js");
      return { store: new AlertStore(deps.kv, deps.clock), audit: new AuditLog(deps.kv, deps.clock) };
    });
  const hook = new TriageStatusHook({
    kv: deps.kv,
    store: { update: async (id, change) => (await parts()).store.update(id, change) },
    clock: deps.clock,
    metrics,
    audit: async (entry) => {
      await (await parts()).audit.record({ ...entry, result: "ok", status: 200, requestId: entry.who });
    },
    onError: (error) =>
      deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "alert status update from a triage run failed",
      ),
  });
  return { metrics, onEvent: hook.onEvent, onRunFinished: hook.onRunFinished };
}
