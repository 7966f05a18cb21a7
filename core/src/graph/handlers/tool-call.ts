import { callTool } from "../../tools/call.js";
import {
  ToolApprovalRequired,
  ToolError,
  ToolInputError,
  ToolOutputError,
  ToolTimeoutError,
} from "../../tools/errors.js";
import type { Tool, ToolCallContext } from "../../tools/types.js";
import { StepFailure } from "../errors.js";

/**
 * Run a tool for a step (see `callTool`: input and output validated, `timeoutMs` enforced) and report
 * its failures as StepFailures. Bad input or output is not retryable; a tool's own error is, unless it
 * says otherwise (`retryable: false`). ToolApprovalRequired passes through for the handler to suspend on.
 */
export async function invokeTool(tool: Tool, input: unknown, ctx: ToolCallContext): Promise<unknown> {
  try {
    return await callTool(tool, input, ctx);
  } catch (error) {
    if (error instanceof StepFailure || error instanceof ToolApprovalRequired) throw error;
    // The calling machinery's own errors already name the tool.
    const own = !(
      error instanceof ToolInputError ||
      error instanceof ToolOutputError ||
      error instanceof ToolTimeoutError
    );
    const marked = error as { message?: unknown; code?: unknown; retryable?: unknown };
    const message =
      error instanceof Error
        ? error.message
        : typeof marked?.message === "string"
          ? marked.message
          : String(error);
    throw new StepFailure(own ? `tool "${tool.name}" failed: ${message}` : message, {
      code: typeof marked?.code === "string" ? marked.code : "tool_error",
      retryable: marked?.retryable !== false,
      ...(error instanceof ToolError && error.details !== undefined ? { details: error.details } : {}),
    });
  }
}
