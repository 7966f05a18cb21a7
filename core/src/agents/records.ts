import type { TokenUsage } from "../graph/types.js";
import type {
  AgentMessage,
  AgentToolCall,
  AgentToolOutcome,
  AgentToolResult,
} from "../models/agent-model.js";
import type { ModelIdentity } from "../models/registry.js";

/**
 * What an agent loop writes, one record at a time, to its step journal and (as `step.progress`) to
 * the run's event log. The records ARE the loop's state: the next move is a function of the last one,
 * so an execution that resumes after a crash or an approval continues exactly where the last stopped.
 */
export type AgentRecord = AgentStartRecord | AgentModelRecord | AgentToolRecord | AgentRepairRecord;

/** The conversation's opening: what the model is asked and what it may use. */
export interface AgentStartRecord {
  kind: "agent.start";
  system?: string;
  prompt: string;
  tools: string[];
  maxRounds: number;
  outputSchema?: Record<string, unknown>;
  [field: string]: unknown;
}

/** One model round's reply, stored before any of its tool calls runs. */
export interface AgentModelRecord {
  kind: "agent.model";
  round: number;
  text: string;
  toolCalls: AgentToolCall[];
  finishReason: string;
  usage?: TokenUsage;
  cost?: number;
  model?: ModelIdentity;
  [field: string]: unknown;
}

/** One tool call's outcome, stored once the call is done (or refused, or found invalid). */
export interface AgentToolRecord {
  kind: "agent.tool";
  round: number;
  index: number;
  callId: string;
  tool: string;
  input: unknown;
  outcome: AgentToolOutcome;
  /** The key the tool ran under: the same for this call whatever execution runs it. */
  idempotencyKey?: string;
  /** Set when a person decided on the call (dangerous tools). */
  approval?: { approved: boolean; by: string; rationale?: string };
  [field: string]: unknown;
}

/** The final answer did not match the output schema: what the model is told to fix (once). */
export interface AgentRepairRecord {
  kind: "agent.repair";
  round: number;
  issues: Array<{ path: string; message: string }>;
  message: string;
  [field: string]: unknown;
}

/** The conversation the records describe, in the model port's terms. */
export function transcriptOf(records: readonly AgentRecord[]): AgentMessage[] {
  const messages: AgentMessage[] = [];
  let results: AgentToolResult[] | undefined;
  const flush = () => {
    if (results && results.length > 0) messages.push({ role: "tool", results });
    results = undefined;
  };
  for (const record of records) {
    switch (record.kind) {
      case "agent.start":
        messages.push({ role: "user", text: record.prompt });
        break;
      case "agent.model":
        flush();
        messages.push({ role: "assistant", text: record.text, toolCalls: record.toolCalls });
        break;
      case "agent.tool":
        results ??= [];
        results.push({ callId: record.callId, name: record.tool, outcome: record.outcome });
        break;
      case "agent.repair":
        flush();
        messages.push({ role: "user", text: record.message });
        break;
    }
  }
  flush();
  return messages;
}

const KINDS = new Set(["agent.start", "agent.model", "agent.tool", "agent.repair"]);

/** Journal contents read back: records this loop wrote (anything else means the store was tampered with). */
export function asRecords(values: readonly unknown[], scope: string): AgentRecord[] {
  return values.map((value, i) => {
    const kind = (value as { kind?: unknown } | null)?.kind;
    if (typeof kind !== "string" || !KINDS.has(kind)) {
      throw new Error(`agent journal ${scope}: record ${i + 1} is not an agent record`);
    }
    return value as AgentRecord;
  });
}
