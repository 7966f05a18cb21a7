import type { LanguageModelV3CallOptions, LanguageModelV3FunctionTool } from "@ai-sdk/provider";
import type { Fact } from "./facts.js";

export interface PlannedToolCall {
  toolName: string;
  input: Record<string, unknown>;
}

/**
 * The tools the offline model calls in this round: each offered tool it has not called yet whose
 * required inputs can all be filled from facts with the same names (an `ip` in the alert fills a
 * tool's `ip` input). Each tool is called at most once per conversation, so the loop always ends.
 */
export function planToolCalls(
  options: Pick<LanguageModelV3CallOptions, "tools" | "toolChoice">,
  facts: readonly Fact[],
  calledTools: ReadonlySet<string>,
): PlannedToolCall[] {
  const choice = options.toolChoice;
  if (choice?.type === "none") return [];
  const tools = (options.tools ?? []).filter((t): t is LanguageModelV3FunctionTool => t.type === "function");
  const offered = choice?.type === "tool" ? tools.filter((t) => t.name === choice.toolName) : tools;
  const calls: PlannedToolCall[] = [];
  for (const tool of offered) {
    if (calledTools.has(tool.name)) continue;
    const input = inputFromFacts(tool.inputSchema as Record<string, unknown>, facts);
    if (input) calls.push({ toolName: tool.name, input });
  }
  return calls;
}

function inputFromFacts(
  schema: Record<string, unknown>,
  facts: readonly Fact[],
): Record<string, unknown> | undefined {
  const properties =
    typeof schema.properties === "object" && schema.properties !== null
      ? (schema.properties as Record<string, Record<string, unknown>>)
      : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : [];
  const input: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    const fact = facts.find((f) => normal(f.key) === normal(name) && fits(f.value, property));
    if (fact) input[name] = fact.value;
  }
  return required.every((name) => name in input) ? input : undefined;
}

function fits(value: unknown, property: Record<string, unknown>): boolean {
  if (Array.isArray(property.enum)) return property.enum.includes(value);
  const types = Array.isArray(property.type) ? property.type : [property.type];
  if (types.includes(undefined)) return true;
  return types.some((type) =>
    type === "integer" ? typeof value === "number" && Number.isInteger(value) : typeof value === type,
  );
}

const normal = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");
