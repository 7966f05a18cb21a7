import type { Tool } from "../tools/types.js";
import type { ModelCatalog, ModelIdentity } from "./registry.js";

/**
 * The port an agent step talks to. One call answers one agent step: the model gets the prompt, the
 * tools it may call (through `callTool`, which validates and runs them under the step's idempotency
 * key) and, when the step declares one, the JSON Schema its output must satisfy.
 */
export interface AgentModel {
  generate(request: AgentRequest): Promise<AgentReply>;
  /** The model aliases it knows, when it has a fixed set: plans naming another alias are rejected at load. */
  readonly catalog?: ModelCatalog;
}

export interface AgentRequest {
  /** Model alias from the step (`fast`, `smart`); the provider's default when absent. */
  model?: string;
  system?: string;
  prompt: string;
  tools: readonly Tool[];
  /** Call one of `tools` by name; input and output are validated against the tool's schemas. */
  callTool(name: string, input: unknown): Promise<unknown>;
  /** JSON Schema (draft 2020-12 subset) for the structured output. */
  outputSchema?: Record<string, unknown>;
  /** Upper bound on model/tool rounds the step allows. */
  maxRounds: number;
  signal: AbortSignal;
}

export interface AgentReply {
  /** The answer: text, or a value matching `outputSchema` when one was given. */
  output: unknown;
  /** Tokens of all rounds; `estimated` when the offline model counted characters instead. */
  usage?: { inputTokens?: number; outputTokens?: number; totalTokens?: number; estimated?: boolean };
  /** Cost of all rounds at the alias's configured price; absent when no price is configured. */
  cost?: number;
  /** Which configured model answered. */
  model?: ModelIdentity;
  /** Model rounds made and tool calls the model requested. */
  rounds?: number;
  toolCalls?: number;
}

/** Whether a service value implements AgentModel. */
export function isAgentModel(value: unknown): value is AgentModel {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { generate?: unknown }).generate === "function"
  );
}

/** The alias catalog of a service value that is an AgentModel with one, else undefined. */
export function modelCatalogOf(value: unknown): ModelCatalog | undefined {
  if (!isAgentModel(value)) return undefined;
  const catalog: unknown = (value as { catalog?: unknown }).catalog;
  if (typeof catalog !== "object" || catalog === null) return undefined;
  const { has, aliases } = catalog as { has?: unknown; aliases?: unknown };
  return typeof has === "function" && typeof aliases === "function" ? (catalog as ModelCatalog) : undefined;
}
