import { InfrastructureError } from "../graph/errors.js";
import type { StepContext, Suspension } from "../graph/types.js";
import type { AgentToolCall, AgentToolOutcome } from "../models/agent-model.js";
import { callTool } from "../tools/call.js";
import { toolServices } from "../tools/context.js";
import { ToolApprovalRequired, ToolError, ToolInputError, toolIssues } from "../tools/errors.js";
import type { Tool, ToolApproval } from "../tools/types.js";
import type { AgentToolRecord } from "./records.js";

/** The call a dangerous tool's approval asks about, as shown in the run state (`approval.request.proposal`). */
export interface ProposedToolCall {
  kind: "agent.tool_call";
  round: number;
  index: number;
  callId: string;
  tool: string;
  /** The input after validation: exactly what the tool will get when the call is approved. */
  input: unknown;
}

export interface CallPosition {
  round: number;
  index: number;
  /** Per call, stable across executions and retries: the tool's idempotency key. */
  idempotencyKey: string;
}

/** Either the call's record, or a suspension to wait for a person's decision first. */
export type CallAnswer = { record: AgentToolRecord } | { suspend: Suspension };

/**
 * Answer one tool call the model made: refuse unknown tools, validate the input (errors go back to
 * the model with field paths), ask a person first when the tool is dangerous, run it under the
 * call's own idempotency key. Only the machinery failing throws; every tool problem is an outcome.
 */
export async function answerToolCall(
  call: AgentToolCall,
  at: CallPosition,
  tools: ReadonlyMap<string, Tool>,
  ctx: StepContext,
  approvers: readonly string[],
): Promise<CallAnswer> {
  const base = {
    kind: "agent.tool" as const,
    round: at.round,
    index: at.index,
    callId: call.id,
    tool: call.name,
  };
  const done = (
    input: unknown,
    outcome: AgentToolOutcome,
    extra: Partial<AgentToolRecord> = {},
  ): CallAnswer => ({
    record: { ...base, input, outcome, ...extra },
  });
  const tool = tools.get(call.name);
  if (!tool) {
    const allowed = [...tools.keys()].join(", ") || "none";
    return done(call.input, {
      kind: "error",
      code: "tool_not_allowed",
      message: `tool "${call.name}" is not available to this step; allowed: ${allowed}`,
    });
  }
  const parsed = tool.input.safeParse(call.input);
  if (!parsed.success) {
    const error = new ToolInputError(tool.name, toolIssues(parsed.error.issues));
    return done(call.input, {
      kind: "error",
      code: error.code,
      message: error.message,
      issues: error.issues,
    });
  }
  const input: unknown = parsed.data;
  let approval: ToolApproval | undefined;
  if (tool.dangerous) {
    const decided = decisionFor(ctx, at);
    if (!decided) {
      const proposal: ProposedToolCall = {
        kind: "agent.tool_call",
        ...position(at),
        callId: call.id,
        tool: tool.name,
        input,
      };
      return {
        suspend: {
          kind: "approval",
          request: {
            message: `Agent step "${ctx.key}" wants to call the dangerous tool "${tool.name}" with the input shown. Approve to run exactly this call; reject to tell the agent it was refused.`,
            approvers: [...approvers],
            proposal,
          },
        },
      };
    }
    const summary = {
      approved: decided.approved,
      by: decided.by,
      ...(decided.rationale !== undefined ? { rationale: decided.rationale } : {}),
    };
    if (!decided.approved) {
      return done(
        input,
        {
          kind: "refused",
          by: decided.by,
          ...(decided.rationale !== undefined ? { rationale: decided.rationale } : {}),
        },
        { approval: summary, idempotencyKey: at.idempotencyKey },
      );
    }
    approval = decided;
  }
  try {
    const output = await callTool(tool, input, {
      runId: ctx.runId,
      stepKey: ctx.key,
      attempt: ctx.attempt,
      idempotencyKey: at.idempotencyKey,
      signal: ctx.signal,
      ...toolServices(ctx.services),
      ...(approval ? { approval } : {}),
    });
    return done(
      input,
      { kind: "output", output },
      {
        idempotencyKey: at.idempotencyKey,
        ...(approval
          ? {
              approval: {
                approved: true,
                by: approval.by,
                ...(approval.rationale !== undefined ? { rationale: approval.rationale } : {}),
              },
            }
          : {}),
      },
    );
  } catch (error) {
    if (error instanceof InfrastructureError) throw error;
    if (ctx.signal.aborted) throw error; // the step timed out or is being abandoned: not the model's business
    return done(input, outcomeOfFailure(tool, error), { idempotencyKey: at.idempotencyKey });
  }
}

function position(at: CallPosition): { round: number; index: number } {
  return { round: at.round, index: at.index };
}

/** The decision on exactly this call, when the step was resumed after a person decided it. */
function decisionFor(ctx: StepContext, at: CallPosition): ToolApproval | undefined {
  const approval = ctx.step?.approval;
  const proposal = approval?.request.proposal as Partial<ProposedToolCall> | undefined;
  if (!approval?.decision || proposal?.kind !== "agent.tool_call") return undefined;
  if (proposal.round !== at.round || proposal.index !== at.index) return undefined;
  return approval.decision;
}

function outcomeOfFailure(tool: Tool, error: unknown): AgentToolOutcome {
  if (error instanceof ToolApprovalRequired) {
    return {
      kind: "error",
      code: error.code,
      message: `tool "${tool.name}" needs a person's decision, which an agent can only get for tools marked dangerous`,
    };
  }
  if (error instanceof ToolError) {
    const issues = Array.isArray(error.details)
      ? (error.details as Array<{ path: string; message: string }>)
      : undefined;
    return { kind: "error", code: error.code, message: error.message, ...(issues ? { issues } : {}) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: "error", code: "tool_error", message: `tool "${tool.name}" failed: ${message}` };
}
