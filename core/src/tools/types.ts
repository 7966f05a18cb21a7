import type { Span, Tracer } from "@opentelemetry/api";
import type * as core from "zod/v4/core";
import type { Secrets } from "../secrets/secrets.js";

/**
 * A Tool: a named, schema-checked effect a plan step or an agent can call. Inputs and outputs are
 * validated on every call (`callTool`); a bad input comes back as a `ToolInputError` naming the fields.
 */
export interface Tool<I = unknown, O = unknown> {
  /** Dot-separated words, e.g. `threatintel.ip`; agents allow tools by glob (`threatintel.*`). */
  name: string;
  /** What the tool does and when to use it; agents show it to the model. */
  description: string;
  input: ToolSchema<I>;
  output?: ToolSchema<O>;
  /** Capabilities the plan must declare to use this tool, e.g. `network.egress`; checked at plan load. */
  capabilities?: readonly string[];
  /**
   * A dangerous tool never runs without a person's approval: an agent step's call waits for one, and so
   * does a `tool` step, unless the step names an approval step of the run that was granted (`approvedBy`).
   */
  dangerous?: boolean;
  /** The tool asks a person itself (ToolApprovalRequired, e.g. human.ask): a `tool` step does not ask first. */
  asksForApproval?: boolean;
  /** Per-call time limit in milliseconds; the call's signal is aborted when it passes. */
  timeoutMs?: number;
  run(input: I, ctx: ToolContext): Promise<O>;
}

/**
 * A tool's input or output schema: classic zod or zod/mini (the built-in tools use zod/mini, which builds
 * and loads faster on a serverless cold start); both are zod core schemas with `safeParse`.
 */
export interface ToolSchema<T = unknown> extends core.$ZodType<T> {
  safeParse(data: unknown): core.util.SafeParseResult<T>;
}

/** What a tool receives with each call. */
export interface ToolContext {
  runId: string;
  stepKey: string;
  attempt: number;
  /** `${runId}/${stepKey}/${attempt}` (agents add the call): use it to make external effects idempotent. */
  idempotencyKey: string;
  /** Aborted when the call times out or the step is abandoned. */
  signal: AbortSignal;
  /** Named secrets from the deployment's Secrets port; never put their values in outputs or logs. */
  secrets: ToolSecrets;
  /** Bound to the tool name, run, step and attempt. */
  logger: ToolLogger;
  /** The span of this call (a no-op span unless a tracer is configured). */
  span: Span;
  /** Set when a person decided on this call before it ran (an approved dangerous call). */
  approval?: ToolApproval;
}

/** What a caller passes to `callTool`; the missing parts get defaults (no secrets, silent logger, no-op span). */
export interface ToolCallContext {
  runId: string;
  stepKey: string;
  attempt: number;
  idempotencyKey: string;
  signal: AbortSignal;
  secrets?: Secrets;
  logger?: ToolLogger;
  /** Each call gets a child span `tool <name>`; defaults to the global OpenTelemetry tracer (no-op unless set up). */
  tracer?: Tracer;
  approval?: ToolApproval;
}

export interface ToolSecrets {
  /** The secret's value, or undefined when it is not configured. */
  get(name: string): Promise<string | undefined>;
  /** The secret's value; a non-retryable ToolError that says where to configure it when it is missing. */
  require(name: string): Promise<string>;
}

/** The part of a pino logger tools use: `logger.info({ bytes }, "fetched")`. */
export interface ToolLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child?(bindings: Record<string, unknown>): ToolLogger;
}

/** A person's decision on a call, as the approval flow records it; `rationale` carries their answer. */
export interface ToolApproval {
  approved: boolean;
  by: string;
  rationale?: string;
  at: number;
}

/** What the loader needs to know about tools: does a tool exist, and what does it require. */
export interface ToolCatalog {
  get(name: string): Pick<Tool, "name" | "capabilities" | "dangerous"> | undefined;
}
