import { SpanStatusCode, trace } from "@opentelemetry/api";
import { completeToolContext } from "./context.js";
import { ToolError, ToolInputError, ToolOutputError, ToolTimeoutError, toolIssues } from "./errors.js";
import type { Tool, ToolCallContext, ToolContext } from "./types.js";

const TRACER_NAME = "@aat/core/tools";

/**
 * Validate the input, run the tool (within its `timeoutMs`, in a span `tool <name>`), validate the
 * output. Throws ToolInputError / ToolOutputError with field paths, ToolTimeoutError, or whatever the
 * tool threw (a ToolError says whether retrying helps).
 */
export async function callTool(tool: Tool, input: unknown, call: ToolCallContext): Promise<unknown> {
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) throw new ToolInputError(tool.name, toolIssues(parsed.error.issues));
  const tracer = call.tracer ?? trace.getTracer(TRACER_NAME);
  const span = tracer.startSpan(`tool ${tool.name}`, {
    attributes: {
      "aat.tool.name": tool.name,
      "aat.run.id": call.runId,
      "aat.step.key": call.stepKey,
      "aat.step.attempt": call.attempt,
    },
  });
  try {
    const output = await runWithin(tool, parsed.data, completeToolContext(tool.name, call, span));
    if (!tool.output) return output;
    const checked = tool.output.safeParse(output);
    if (!checked.success) throw new ToolOutputError(tool.name, toolIssues(checked.error.issues));
    return checked.data;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
    if (error instanceof ToolError) span.setAttribute("aat.tool.error_code", error.code);
    throw error;
  } finally {
    span.end();
  }
}

async function runWithin(tool: Tool, input: unknown, ctx: ToolContext): Promise<unknown> {
  const limit = tool.timeoutMs;
  if (limit === undefined) return tool.run(input, ctx);
  const timer = AbortSignal.timeout(limit);
  const signal = AbortSignal.any([ctx.signal, timer]);
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ToolTimeoutError(tool.name, limit));
    timer.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([tool.run(input, { ...ctx, signal }), expired]);
  } finally {
    if (onAbort) timer.removeEventListener("abort", onAbort);
  }
}
