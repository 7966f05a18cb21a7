import type { RunEvent, RunState } from "../../graph/types.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import type { AlertMetrics } from "./metrics.js";
import type { AlertStatus } from "./ocsf.js";
import { RESOLUTIONS } from "./resolutions.js";
import { runIndexKey } from "./run-index.js";
import type { AlertRecord, AlertStore } from "./store.js";

export interface TriageStatusDeps {
  kv: KeyValue;
  /** Only `update` is used: a caller may load the store on the first triage run (functions/serverless). */
  store: Pick<AlertStore, "update">;
  clock: Clock;
  metrics: AlertMetrics;
  /** Writes the change to the audit log. */
  audit?(entry: {
    who: string;
    action: string;
    target: string;
    details: Record<string, unknown>;
  }): Promise<void>;
  onError?(error: unknown): void;
}

/**
 * Steps inside an alerts plan's `enrich` map (keys `enrich[0]/lookup_ip`, …) whose output is an
 * indicator's answer (`{ indicator, verdict, … }`) put that answer on the alert as soon as they succeed:
 * the map step itself records no event of its own when its last item ends. docs/workflows-alerts.md
 * tells plan authors.
 */
const ENRICH_ITEM = "enrich[";

type IndicatorAnswer = { indicator: string; [key: string]: unknown };

function isIndicatorAnswer(output: unknown): output is IndicatorAnswer {
  return typeof (output as { indicator?: unknown } | null)?.indicator === "string";
}

const OCSF_STATUS: Record<AlertStatus, AlertRecord["alert"]["status"]> = {
  new: "New",
  triaging: "In Progress",
  awaiting_approval: "In Progress",
  resolved: "Resolved",
};

/**
 * Keeps an alert's status in step with its triage run: triaging when the run starts, awaiting_approval
 * while it waits on a person, triaging again after the decision, resolved when the run finishes with a
 * `resolution` (or a `verdict`) in its output. Pass `onEvent` and `onRunFinished` to the Runner (next
 * to the event hub): the end of a run is taken from the runner's once-per-run notification, not guessed
 * from step events (several of which may arrive after the run has ended).
 */
export class TriageStatusHook {
  /** Runs known not to be triage runs, so their events cost one KV read each run, not each event. */
  private readonly notAlertRuns = new Set<string>();

  constructor(private readonly deps: TriageStatusDeps) {}

  readonly onEvent = (runId: string, _seq: number, event: RunEvent): void => {
    if (this.notAlertRuns.has(runId)) return;
    const relevant =
      event.type === "run.started" ||
      (event.type === "step.suspended" && event.suspension.kind === "approval") ||
      event.type === "approval.granted" ||
      event.type === "approval.denied" ||
      (event.type === "step.succeeded" &&
        event.key.startsWith(ENRICH_ITEM) &&
        isIndicatorAnswer(event.output));
    if (!relevant) return;
    // Most runs are not triage runs: settle those here, without an async call and its promise per run.
    if (event.type === "run.started" && (event.plan.workflow !== "alerts" || !hasAlertId(event.input))) {
      this.forget(runId);
      return;
    }
    this.handle(runId, event).catch((error) => this.deps.onError?.(error));
  };

  /**
   * The Runner's onRunFinished: records the end of a triage run once, with its outcome. The Runner may
   * call it again for the same run (after a crash, or when this failed), so `finished` is idempotent; a
   * failure is reported and rethrown, which keeps the run active for the next reconcile.
   */
  readonly onRunFinished = async (state: RunState): Promise<void> => {
    if (state.plan.workflow !== "alerts") return;
    await this.finished(state).catch((error: unknown) => {
      this.deps.onError?.(error);
      throw error;
    });
  };

  async handle(runId: string, event: RunEvent): Promise<void> {
    const { deps } = this;
    if (event.type === "run.started") {
      if (event.plan.workflow !== "alerts") return this.forget(runId);
      const alertId = (event.input as { alert?: { id?: unknown } } | undefined)?.alert?.id;
      if (typeof alertId !== "string") return this.forget(runId);
      await deps.kv.set(runIndexKey(runId), { alertId }, { ttlMs: 30 * 86_400_000 });
      const updated = await this.transition(alertId, runId, ["new"], "triaging", "triage_started", {
        planId: event.plan.id,
      });
      if (updated) deps.metrics.triageStartLatency(Math.max(0, event.at - updated.alert.first_seen));
      return;
    }
    const index = await deps.kv.get<{ alertId: string }>(runIndexKey(runId));
    if (!index) return this.forget(runId);
    const alertId = index.value.alertId;
    if (event.type === "step.suspended") {
      await this.transition(alertId, runId, ["new", "triaging"], "awaiting_approval", "approval_requested", {
        step: event.key,
      });
      return;
    }
    if (event.type === "step.succeeded") {
      await this.enriched(alertId, event.output as IndicatorAnswer);
      return;
    }
    if (event.type === "approval.granted" || event.type === "approval.denied") {
      await this.transition(
        alertId,
        runId,
        ["awaiting_approval"],
        "triaging",
        event.type === "approval.granted" ? "approval_granted" : "approval_denied",
        { step: event.key, by: event.by },
      );
    }
  }

  /**
   * One lookup inside the plan's `enrich` step answered: the alert shows that indicator's verdict now,
   * while the run goes on to a verdict or waits for a person, not only when the run ends. Merging the
   * same answer again (a redelivered event) changes nothing; the run's final `enrichment` output still
   * wins at the end.
   */
  private async enriched(alertId: string, answer: IndicatorAnswer): Promise<void> {
    await this.deps.store.update(alertId, (r) =>
      r.enrichment[answer.indicator] !== undefined
        ? undefined
        : { ...r, enrichment: { ...r.enrichment, [answer.indicator]: answer } },
    );
  }

  /** The run ended: triage_finished in the timeline, resolved when its output says how. */
  async finished(state: RunState): Promise<void> {
    const { deps } = this;
    const runId = state.runId;
    const alertId = (state.input as { alert?: { id?: unknown } } | undefined)?.alert?.id;
    if (typeof alertId !== "string") return;
    const output = (state.output ?? {}) as Record<string, unknown>;
    const verdict =
      typeof output.resolution === "string"
        ? output.resolution
        : typeof output.verdict === "string"
          ? output.verdict
          : undefined;
    const kind = resolutionKindOf(output);
    const by = `run:${runId}`;
    let recorded = false;
    const updated = await deps.store.update(alertId, (r) => {
      // Called again for a run already recorded (a retried or reconciled end): nothing to change.
      if (r.timeline.some((entry) => entry.type === "triage_finished" && entry.by === by)) return undefined;
      recorded = true;
      const finished = {
        at: deps.clock.now(),
        by: `run:${runId}`,
        type: "triage_finished",
        details: { status: state.status, ...(verdict ? { verdict } : {}) },
      };
      const enrichment = enrichmentOf(output.enrichment) ?? r.enrichment;
      if (state.status === "succeeded" && kind !== undefined && r.status !== "resolved") {
        const reason = typeof output.reason === "string" ? output.reason : undefined;
        return {
          ...r,
          status: "resolved",
          alert: { ...r.alert, status: "Resolved" },
          resolution: { kind, ...(reason ? { comment: reason } : {}) },
          enrichment,
          timeline: [
            ...r.timeline,
            finished,
            {
              at: deps.clock.now(),
              by: `run:${runId}`,
              type: "status_changed",
              details: { from: r.status, to: "resolved", resolution: kind },
            },
          ],
        };
      }
      return { ...r, enrichment, timeline: [...r.timeline, finished] };
    });
    if (!updated || !recorded) return;
    await deps.audit?.({
      who: `run:${runId}`,
      action: "alert.triage_finished",
      target: `/v1/alerts/${alertId}`,
      details: { status: state.status, ...(verdict ? { verdict } : {}) },
    });
  }

  private async transition(
    alertId: string,
    runId: string,
    from: AlertStatus[],
    to: AlertStatus,
    type: string,
    details: Record<string, unknown>,
  ): Promise<AlertRecord | undefined> {
    const { deps } = this;
    let changed = false;
    const updated = await deps.store.update(alertId, (r) => {
      const runs = r.runs.some((x) => x.runId === runId)
        ? r.runs
        : [...r.runs, { runId, at: deps.clock.now() }];
      const entry = { at: deps.clock.now(), by: `run:${runId}`, type, details: { ...details, runId } };
      if (!from.includes(r.status)) return { ...r, runs, timeline: [...r.timeline, entry] };
      changed = true;
      return {
        ...r,
        runs,
        status: to,
        alert: { ...r.alert, status: OCSF_STATUS[to] },
        timeline: [
          ...r.timeline,
          entry,
          {
            at: deps.clock.now(),
            by: `run:${runId}`,
            type: "status_changed",
            details: { from: r.status, to },
          },
        ],
      };
    });
    if (changed)
      await deps.audit?.({
        who: `run:${runId}`,
        action: `alert.${type}`,
        target: `/v1/alerts/${alertId}`,
        details: { to },
      });
    return updated;
  }

  private forget(runId: string): void {
    if (this.notAlertRuns.size > 10_000) this.notAlertRuns.clear();
    this.notAlertRuns.add(runId);
  }
}

function hasAlertId(input: unknown): boolean {
  return typeof (input as { alert?: { id?: unknown } } | undefined)?.alert?.id === "string";
}

/**
 * A run's `enrichment` output as the alert stores it (a record keyed by indicator). The shipped plans
 * output a list of per-indicator answers (`{ indicator, type, verdict, score, … }`); a plan may also
 * output a record already. Anything else leaves the alert's enrichment as it was.
 */
export function enrichmentOf(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    value.forEach((item, index) => {
      const indicator =
        typeof item === "object" &&
        item !== null &&
        typeof (item as { indicator?: unknown }).indicator === "string"
          ? (item as { indicator: string }).indicator
          : String(index);
      out[indicator] = item;
    });
    return out;
  }
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * The resolution a finished triage run gives its alert, or none. A run whose output says a `status`
 * other than `resolved` (the shipped plans' `needs_review` path says `triaging`) leaves the alert open.
 * Otherwise `resolution`, then `verdict`: a known kind as it is, a refinement of one
 * (`true_positive_contained`) as that kind, anything else as `other`.
 */
export function resolutionKindOf(output: Record<string, unknown>): (typeof RESOLUTIONS)[number] | undefined {
  if (typeof output.status === "string" && output.status !== "resolved") return undefined;
  const said = [output.resolution, output.verdict].filter((v): v is string => typeof v === "string");
  if (said.length === 0) return undefined;
  for (const value of said) {
    const known = RESOLUTIONS.find((k) => value === k || value.startsWith(`${k}_`));
    if (known) return known;
  }
  return "other";
}
