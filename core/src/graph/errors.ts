import { $ZodError, type $ZodIssue } from "zod/v4/core";
import type { PlanProblem } from "../plan/checks.js";
import { formatPath } from "../plan/structure.js";
import type { StepError } from "./types.js";

/**
 * A handler failure that knows whether retrying can help. Handlers throw it for bad input, invalid
 * tool output and the like (`retryable: false`); anything else they throw is taken as transient.
 */
export class StepFailure extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(message: string, options: { code: string; retryable?: boolean; details?: unknown }) {
    super(message);
    this.name = "StepFailure";
    this.code = options.code;
    this.retryable = options.retryable ?? true;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** The plan cannot be compiled; `problems` says where and why. */
export class PlanCompileError extends Error {
  constructor(
    readonly planId: string,
    readonly problems: PlanProblem[],
  ) {
    super(
      `plan "${planId}" has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${formatPath(p.path) || "(plan)"}: ${p.message}`).join("\n"),
    );
    this.name = "PlanCompileError";
  }
}

/** `a.b[0]: message; c: message` for zod issues, so the failing fields are named. */
export function formatIssues(issues: readonly $ZodIssue[]): string {
  return issues
    .map(
      (issue) =>
        `${formatPath(issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))) || "(value)"}: ${issue.message}`,
    )
    .join("; ");
}

/** What an executor reports for anything a handler threw. */
export function toStepError(error: unknown): StepError {
  if (error instanceof StepFailure) {
    return {
      message: error.message,
      code: error.code,
      retryable: error.retryable,
      ...(error.details !== undefined ? { details: error.details } : {}),
    };
  }
  if (error instanceof $ZodError) {
    return {
      message: `invalid value: ${formatIssues(error.issues)}`,
      code: "validation",
      retryable: false,
      details: error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    };
  }
  if (error instanceof Error) {
    const marked = error as Error & { code?: unknown; retryable?: unknown };
    return {
      message: error.message || error.name,
      ...(typeof marked.code === "string" ? { code: marked.code } : {}),
      ...(marked.retryable === false ? { retryable: false } : {}),
    };
  }
  if (isJsonataError(error)) {
    return { message: error.message, code: "expression", retryable: false };
  }
  return { message: typeof error === "string" ? error : `non-error value thrown: ${safeString(error)}` };
}

/** JSONata throws plain objects such as `{ code: "T2001", message, position }`. */
export function isJsonataError(
  error: unknown,
): error is { code: string; message: string; position?: number } {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The machinery around a step failed (the journal's store, the event log), not the step: the executor
 * lets it through instead of reporting `step.failed`, so the runner releases the step's claim and the
 * queue delivers the step again, which resumes from its journal.
 */
export class InfrastructureError extends Error {
  override readonly name = "InfrastructureError";
}
