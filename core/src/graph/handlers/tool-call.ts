import type { Tool, ToolContext } from "../../tools/types.js";
import { formatIssues, StepFailure } from "../errors.js";

/**
 * Validate the input, run the tool (within its `timeoutMs`), validate the output. Bad input or output
 * is not retryable; a tool's own error is, unless it says otherwise (`retryable: false`).
 */
export async function invokeTool(tool: Tool, input: unknown, ctx: ToolContext): Promise<unknown> {
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) {
    throw new StepFailure(`tool "${tool.name}" input is invalid: ${formatIssues(parsed.error.issues)}`, {
      code: "validation",
      retryable: false,
      details: issuePaths(parsed.error.issues),
    });
  }
  let output: unknown;
  try {
    output = await runWithin(tool, parsed.data, ctx);
  } catch (error) {
    if (error instanceof StepFailure) throw error;
    const marked = error as { message?: unknown; code?: unknown; retryable?: unknown };
    const message =
      error instanceof Error
        ? error.message
        : typeof marked?.message === "string"
          ? marked.message
          : String(error);
    throw new StepFailure(`tool "${tool.name}" failed: ${message}`, {
      code: typeof marked?.code === "string" ? marked.code : "tool_error",
      retryable: marked?.retryable !== false,
    });
  }
  if (!tool.output) return output;
  const checked = tool.output.safeParse(output);
  if (!checked.success) {
    throw new StepFailure(
      `tool "${tool.name}" returned an invalid output: ${formatIssues(checked.error.issues)}`,
      {
        code: "tool_output_invalid",
        retryable: false,
        details: issuePaths(checked.error.issues),
      },
    );
  }
  return checked.data;
}

async function runWithin(tool: Tool, input: unknown, ctx: ToolContext): Promise<unknown> {
  const limit = tool.timeoutMs;
  if (limit === undefined) return tool.run(input, ctx);
  const timer = AbortSignal.timeout(limit);
  const signal = AbortSignal.any([ctx.signal, timer]);
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        new StepFailure(`tool "${tool.name}" took longer than its ${limit} ms limit`, {
          code: "timeout",
          retryable: true,
        }),
      );
    timer.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([tool.run(input, { ...ctx, signal }), expired]);
  } finally {
    if (onAbort) timer.removeEventListener("abort", onAbort);
  }
}

function issuePaths(issues: readonly { path: PropertyKey[]; message: string }[]) {
  return issues.map((issue) => ({ path: issue.path.map(String), message: issue.message }));
}
