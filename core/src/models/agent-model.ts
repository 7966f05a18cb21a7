import type { ModelCatalog, ModelIdentity } from "./registry.js";
import type { ModelUsage } from "./usage.js";

/**
 * The port an agent step talks to: one call is ONE model round. The agent loop (core/src/agents) owns
 * the conversation, runs the tools, asks for approvals and keeps a durable journal between rounds, so
 * a model only ever answers "given this transcript and these tools, what next?".
 */
export interface AgentModel {
  /** One round: the model's reply (text and/or tool calls) to the conversation so far. */
  turn(request: AgentTurnRequest): Promise<AgentTurn>;
  /**
   * The same round, with the reply's text passed to `onTextDelta` as it arrives (token streaming for
   * chat). Optional: the loop falls back to `turn` when a model cannot stream. The returned turn is
   * exactly what `turn` would have returned.
   */
  stream?(request: AgentTurnRequest, onTextDelta: (delta: string) => void): Promise<AgentTurn>;
  /** The model aliases it knows, when it has a fixed set: plans naming another alias are rejected at load. */
  readonly catalog?: ModelCatalog;
}

/** A tool as the model sees it: a name, what it does and the JSON Schema of its input. */
export interface AgentToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** A tool call the model asked for. `input` is what the model sent (validated by the loop, not here). */
export interface AgentToolCall {
  /** The provider's call id (`call_…`, `toolu_…`), echoed back with the result. */
  id: string;
  /** The tool's plan name (`threatintel.ip`), not the provider-safe alias. */
  name: string;
  input: unknown;
}

/** What came of one tool call, as the model is told. */
export type AgentToolOutcome =
  | { kind: "output"; output: unknown }
  /** The call was not run or failed: bad input (with field paths), an unknown tool, a tool error. */
  | {
      kind: "error";
      message: string;
      code?: string;
      issues?: ReadonlyArray<{ path: string; message: string }>;
    }
  /** A person refused the call (a dangerous tool). */
  | { kind: "refused"; by: string; rationale?: string };

export interface AgentToolResult {
  callId: string;
  name: string;
  outcome: AgentToolOutcome;
}

/** The conversation, JSON all the way down so it can be journaled and shown in the run's event log. */
export type AgentMessage =
  | { role: "user"; text: string }
  | { role: "assistant"; text: string; toolCalls: AgentToolCall[] }
  | { role: "tool"; results: AgentToolResult[] };

export interface AgentTurnRequest {
  /** Model alias from the step (`fast`, `smart`); the configured default when absent. */
  model?: string;
  system?: string;
  messages: readonly AgentMessage[];
  /** Tools the model may call this round; empty when it must answer. */
  tools: readonly AgentToolSpec[];
  /** JSON Schema the final answer should match (asked for as JSON; checked by the loop). */
  outputSchema?: Record<string, unknown>;
  signal: AbortSignal;
}

/** One round's reply. */
export interface AgentTurn {
  text: string;
  toolCalls: AgentToolCall[];
  finishReason: string;
  usage?: ModelUsage;
  /** At the alias's configured price; absent when no price is configured. */
  cost?: number;
  /** Which configured model answered. */
  model?: ModelIdentity;
}

/** Whether a service value implements AgentModel. */
export function isAgentModel(value: unknown): value is AgentModel {
  return (
    typeof value === "object" && value !== null && typeof (value as { turn?: unknown }).turn === "function"
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
