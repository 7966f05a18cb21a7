import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { runLinks } from "../api/context.js";
import type { RunState } from "../graph/types.js";
import { waitingApprovals } from "./await-run.js";
import { GET_RUN_TOOL, waitText } from "./plan-tools.js";

/**
 * A run as an MCP tool result: `structuredContent` holds runId, plan, status and the output or error
 * (plus a sentence saying what to do next); the text block is the same as JSON, for clients that read
 * only text. A failed or cancelled run is an `isError` result.
 */
export function runToolResult(state: RunState, waitedMs?: number): CallToolResult {
  const { runId, status } = state;
  const waiting = waitingApprovals(state);
  const structured: Record<string, unknown> = {
    runId,
    planId: state.plan.id,
    version: state.plan.version,
    status,
    message: statusMessage(state, waiting, waitedMs),
    ...(status === "succeeded" ? { output: state.output ?? null } : {}),
    ...(state.error ? { error: state.error } : {}),
    ...(waiting.length > 0 ? { waitingFor: waiting } : {}),
    links: runLinks(runId),
  };
  return {
    content: [{ type: "text", text: JSON.stringify(structured) }],
    structuredContent: structured,
    ...(status === "failed" || status === "cancelled" ? { isError: true } : {}),
  };
}

/** A call that could not start or read a run: an `isError` result the client (or its model) can act on. */
export function errorToolResult(
  message: string,
  errors?: ReadonlyArray<{ path: string; message: string }>,
): CallToolResult {
  const detail =
    errors && errors.length > 0
      ? `${message}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`
      : message;
  return {
    content: [{ type: "text", text: detail }],
    ...(errors && errors.length > 0 ? { structuredContent: { error: message, errors: [...errors] } } : {}),
    isError: true,
  };
}

function statusMessage(
  state: RunState,
  waiting: ReturnType<typeof waitingApprovals>,
  waitedMs?: number,
): string {
  const { runId, status } = state;
  if (status === "succeeded") return `run ${runId} succeeded`;
  if (status === "failed") return `run ${runId} failed: ${state.error?.message ?? "no reason recorded"}`;
  if (status === "cancelled") return `run ${runId} was cancelled`;
  if (waiting.length > 0) {
    const steps = waiting.map((w) => `${w.step}${w.message ? ` ("${w.message}")` : ""}`).join(", ");
    return `run ${runId} waits for a person to approve ${steps} in aat; then read it with ${GET_RUN_TOOL}`;
  }
  const after = waitedMs === undefined ? "" : ` after ${waitText(waitedMs)}`;
  return `run ${runId} is still ${status}${after}; read it later with ${GET_RUN_TOOL}`;
}
