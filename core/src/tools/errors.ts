import type { z } from "zod";
import { formatPath } from "../plan/structure.js";

/** One thing wrong with a tool's input or output: where (`headers.accept`, `items[2]`) and why. */
export interface ToolIssue {
  path: string;
  message: string;
}

/**
 * An error a tool throws on purpose. `retryable: false` tells the step machinery that calling again
 * cannot help (bad input, a refused address, a script error); anything else a tool throws is taken as
 * transient.
 */
export class ToolError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(message: string, options: { code: string; retryable?: boolean; details?: unknown }) {
    super(message);
    this.name = "ToolError";
    this.code = options.code;
    this.retryable = options.retryable ?? true;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** The caller's input does not match the tool's input schema. Never retryable: the same input fails again. */
export class ToolInputError extends ToolError {
  constructor(
    readonly toolName: string,
    readonly issues: readonly ToolIssue[],
  ) {
    super(`tool "${toolName}" input is invalid: ${describeIssues(issues)}`, {
      code: "validation",
      retryable: false,
      details: issues,
    });
    this.name = "ToolInputError";
  }
}

/** The tool returned something its output schema does not allow: a bug in the tool, not in the caller. */
export class ToolOutputError extends ToolError {
  constructor(
    readonly toolName: string,
    readonly issues: readonly ToolIssue[],
  ) {
    super(`tool "${toolName}" returned an invalid output: ${describeIssues(issues)}`, {
      code: "tool_output_invalid",
      retryable: false,
      details: issues,
    });
    this.name = "ToolOutputError";
  }
}

/** The tool ran longer than its `timeoutMs`; its signal was aborted. */
export class ToolTimeoutError extends ToolError {
  constructor(
    readonly toolName: string,
    readonly limitMs: number,
  ) {
    super(`tool "${toolName}" took longer than its ${limitMs} ms limit`, {
      code: "timeout",
      retryable: true,
    });
    this.name = "ToolTimeoutError";
  }
}

/** What a person is asked when a tool needs an approval before it can answer (see `human.ask`). */
export interface ToolApprovalRequest {
  message: string;
  /** `role:<name>` or `user:<name>`; empty means anyone allowed to decide approvals. */
  approvers: string[];
  /** Shown next to the message, e.g. the call that would be made. */
  proposal?: unknown;
}

/**
 * Thrown by a tool that cannot finish without a person's decision. A `tool` step turns it into an
 * approval (the step waits in `waiting_approval`); a caller that cannot wait gets a clear failure.
 */
export class ToolApprovalRequired extends ToolError {
  constructor(
    readonly toolName: string,
    readonly request: ToolApprovalRequest,
  ) {
    super(
      `tool "${toolName}" needs a person's decision and this caller cannot wait for one: use it in a \`tool\` step (which waits for the approval), or approve the call first in an agent step`,
      { code: "approval_required", retryable: false },
    );
    this.name = "ToolApprovalRequired";
  }
}

/** zod issues as `{ path: "a.b[0]", message }`, the path empty for the value itself. */
export function toolIssues(issues: readonly z.core.$ZodIssue[]): ToolIssue[] {
  return issues.map((issue) => ({
    path: formatPath(issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))),
    message: issue.message,
  }));
}

function describeIssues(issues: readonly ToolIssue[]): string {
  return issues.map((issue) => `${issue.path || "(value)"}: ${issue.message}`).join("; ");
}
