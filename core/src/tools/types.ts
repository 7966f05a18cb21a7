import type { z } from "zod";

/**
 * A Tool: a named, schema-checked effect a plan step or an agent can call. Inputs and outputs are
 * validated on every call. (The agents issue grows this with secrets, logger and span in the context.)
 */
export interface Tool<I = unknown, O = unknown> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  output?: z.ZodType<O>;
  /** Capabilities the plan must declare to use this tool, e.g. `network.egress`. */
  capabilities?: readonly string[];
  /** Calls to dangerous tools from agent steps wait for a human approval first. */
  dangerous?: boolean;
  /** Per-call time limit in milliseconds. */
  timeoutMs?: number;
  run(input: I, ctx: ToolContext): Promise<O>;
}

export interface ToolContext {
  runId: string;
  stepKey: string;
  attempt: number;
  /** `${runId}/${stepKey}/${attempt}`: use it to make external effects idempotent. */
  idempotencyKey: string;
  signal: AbortSignal;
}

/** What the loader needs to know about tools: does a tool exist, and what does it require. */
export interface ToolCatalog {
  get(name: string): Pick<Tool, "name" | "capabilities" | "dangerous"> | undefined;
}
