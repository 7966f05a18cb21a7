import type { ModelMessage, ToolResultPart } from "ai";
import type { AgentMessage, AgentToolOutcome, AgentToolSpec } from "./agent-model.js";
import { safeToolNames } from "./tool-names.js";

/** Plan tool names ↔ provider-safe names, over every tool offered or mentioned in the conversation. */
export interface ToolNameMap {
  safe(name: string): string;
  plan(safe: string): string | undefined;
}

export function toolNameMap(tools: readonly AgentToolSpec[], messages: readonly AgentMessage[]): ToolNameMap {
  const names = new Set(tools.map((t) => t.name));
  for (const message of messages) {
    if (message.role === "assistant") for (const call of message.toolCalls) names.add(call.name);
    if (message.role === "tool") for (const result of message.results) names.add(result.name);
  }
  // Sorted, so a name keeps its safe alias from round to round whatever the order tools were offered in.
  const bySafe = safeToolNames([...names].sort());
  const byName = new Map([...bySafe].map(([safe, name]) => [name, safe]));
  return { safe: (name) => byName.get(name) ?? name, plan: (safe) => bySafe.get(safe) };
}

/** The loop's transcript as AI SDK messages. */
export function toModelMessages(messages: readonly AgentMessage[], names: ToolNameMap): ModelMessage[] {
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case "user":
        return { role: "user", content: message.text };
      case "assistant":
        return {
          role: "assistant",
          content: [
            ...(message.text !== "" ? [{ type: "text" as const, text: message.text }] : []),
            ...message.toolCalls.map((call) => ({
              type: "tool-call" as const,
              toolCallId: call.id,
              toolName: names.safe(call.name),
              input: call.input,
            })),
          ],
        };
      default:
        return {
          role: "tool",
          content: message.results.map(
            (result): ToolResultPart => ({
              type: "tool-result",
              toolCallId: result.callId,
              toolName: names.safe(result.name),
              output: resultOutput(result.outcome),
            }),
          ),
        };
    }
  });
}

function resultOutput(outcome: AgentToolOutcome): ToolResultPart["output"] {
  switch (outcome.kind) {
    case "output":
      return { type: "json", value: (outcome.output ?? null) as never };
    case "error":
      return {
        type: "error-json",
        value: {
          error: outcome.message,
          ...(outcome.code !== undefined ? { code: outcome.code } : {}),
          ...(outcome.issues !== undefined ? { issues: outcome.issues.map((i) => ({ ...i })) } : {}),
        },
      };
    case "refused":
      return {
        type: "execution-denied",
        reason: `a person (${outcome.by}) refused this call${outcome.rationale ? `: ${outcome.rationale}` : ""}; do not try it again`,
      };
  }
}
