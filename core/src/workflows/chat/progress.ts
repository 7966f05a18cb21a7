import type { ChatDelta } from "./deltas.js";

/**
 * The chat view of an agent step's durable progress (`step.progress` events in the run's log): the
 * tool calls each model round asked for, each call's outcome and each round's token usage. Read from
 * the log, so they reach the client whichever process ran the step. Unknown shapes are skipped.
 */
export function progressDeltas(event: unknown): ChatDelta[] {
  if (!isObject(event) || event.type !== "step.progress" || !isObject(event.progress)) return [];
  const progress = event.progress;
  if (progress.kind === "agent.model") {
    const out: ChatDelta[] = [];
    for (const call of Array.isArray(progress.toolCalls) ? progress.toolCalls : []) {
      if (!isObject(call) || typeof call.name !== "string") continue;
      out.push({
        type: "tool-call",
        ...(typeof call.id === "string" ? { toolCallId: call.id } : {}),
        name: call.name,
        input: call.input,
      });
    }
    if (isObject(progress.usage)) {
      const { inputTokens, outputTokens, totalTokens, estimated } = progress.usage;
      out.push({
        type: "usage",
        usage: {
          ...(typeof inputTokens === "number" ? { inputTokens } : {}),
          ...(typeof outputTokens === "number" ? { outputTokens } : {}),
          ...(typeof totalTokens === "number" ? { totalTokens } : {}),
          ...(estimated === true ? { estimated } : {}),
        },
      });
    }
    return out;
  }
  if (progress.kind === "agent.tool" && typeof progress.tool === "string" && isObject(progress.outcome)) {
    const outcome = progress.outcome;
    const base = {
      type: "tool-result" as const,
      ...(typeof progress.callId === "string" ? { toolCallId: progress.callId } : {}),
      name: progress.tool,
    };
    if (outcome.kind === "output") return [{ ...base, output: outcome.output }];
    if (outcome.kind === "refused") {
      return [
        {
          ...base,
          error: `refused by ${String(outcome.by)}${typeof outcome.rationale === "string" ? `: ${outcome.rationale}` : ""}`,
        },
      ];
    }
    return [{ ...base, error: typeof outcome.message === "string" ? outcome.message : "the call failed" }];
  }
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
