import type { RunStatus } from "../graph/types.js";

/** How a step execution ended, for the step latency histogram. */
export type StepOutcome = "succeeded" | "failed" | "skipped" | "suspended" | "timed_out" | "error";

/** Where a duplicate was absorbed: a step claim that already held a result, a queue's broker-side dedupe. */
export type DedupeHitSource = "step" | "queue";

/**
 * The counters and histograms the core records, implemented by the runtime (functions/node maps them
 * onto prom-client for GET /metrics). Calls must be cheap and must never throw: they happen on the
 * hot path of every run and step. The core never depends on a metrics library.
 */
export interface RunMetrics {
  runStarted(plan: { id: string; workflow: string }): void;
  runFinished(status: RunStatus, plan: { id: string; workflow: string }): void;
  /** One step execution (inline or by a worker), `seconds` from its start to its result. */
  stepExecuted(nodeType: string, outcome: StepOutcome, seconds: number): void;
  dedupeHit(source: DedupeHitSource): void;
}

/** The outcome a step's result event stands for. */
export function stepOutcome(eventType: string): StepOutcome {
  switch (eventType) {
    case "step.succeeded":
      return "succeeded";
    case "step.failed":
      return "failed";
    case "step.skipped":
      return "skipped";
    case "step.suspended":
      return "suspended";
    case "step.timed_out":
      return "timed_out";
    default:
      return "error";
  }
}
