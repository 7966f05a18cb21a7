import type { PlanDefinition, StepDefinition } from "../../plan/schema.js";
import { closest } from "../../plan/suggest.js";
import { toolServices } from "../../tools/context.js";
import { ToolApprovalRequired } from "../../tools/errors.js";
import { isToolSource } from "../../tools/registry.js";
import type { Tool } from "../../tools/types.js";
import { StepFailure } from "../errors.js";
import type { ApprovalDecision, HandlerProblem, NodeHandler, StepContext } from "../types.js";
import { invokeTool } from "./tool-call.js";

type ToolStep = Extract<StepDefinition, { type: "tool" }>;

/**
 * `tool`: evaluate `with`, validate it against the tool's input schema, run the tool under the step's
 * idempotency key, validate its output. The tools come from the `tools` service (a ToolRegistry).
 */
export const toolHandler: NodeHandler<ToolStep> = {
  pure: false,
  validate(step, plan, services): HandlerProblem[] {
    const problems = approvedByProblems(step, plan);
    if (problems.length > 0) return problems;
    const tools = services.tools;
    if (!isToolSource(tools)) {
      return [
        {
          path: ["tool"],
          message: `no tool registry to find "${step.tool}" in: create the PlanFactory with services.tools (a ToolRegistry)`,
        },
      ];
    }
    if (tools.get(step.tool)) return [];
    const names = namesOf(tools);
    const hint = names ? closest(step.tool, names) : undefined;
    return [
      {
        path: ["tool"],
        message: `unknown tool "${step.tool}"${hint ? ` (did you mean "${hint}"?)` : ""}; register it in the ToolRegistry or use a registered name`,
      },
    ];
  },
  async execute(step, ctx) {
    const tool = lookupTool(ctx, step.tool);
    const input = step.with === undefined ? {} : await ctx.evaluate("with");
    let approval: ApprovalDecision | undefined;
    if (tool.dangerous && !tool.asksForApproval) {
      approval = grantFor(step, ctx);
      if (!approval) {
        const proposal: ProposedToolStepCall = { kind: "tool.call", tool: tool.name, input };
        return {
          kind: "suspend",
          suspension: {
            kind: "approval",
            request: {
              message: `Step "${ctx.key}" runs the dangerous tool "${tool.name}" with the input shown${step.approvedBy ? ` (the approval "${step.approvedBy}" it relies on was not granted in this run)` : ""}. Approve to run exactly this call; reject to fail the step.`,
              approvers: [],
              proposal,
            },
          },
        };
      }
    }
    try {
      const output = await invokeTool(tool, input, {
        runId: ctx.runId,
        stepKey: ctx.key,
        attempt: ctx.attempt,
        idempotencyKey: ctx.idempotencyKey,
        signal: ctx.signal,
        ...toolServices(ctx.services),
        ...(approval ? { approval } : {}),
      });
      return { kind: "done", output };
    } catch (error) {
      // A tool that needs a person's answer (human.ask): the step waits as an approval step would.
      if (error instanceof ToolApprovalRequired)
        return { kind: "suspend", suspension: { kind: "approval", request: error.request } };
      throw error;
    }
  },
};

/** What a `tool` step's own approval shows: the dangerous call it will make once approved. */
export interface ProposedToolStepCall {
  kind: "tool.call";
  tool: string;
  input: unknown;
}

/**
 * The approval that lets this step run its dangerous tool: its own, decided on this attempt (the step
 * was dispatched again after it), or the granted approval step it names in `approvedBy`.
 */
function grantFor(step: ToolStep, ctx: StepContext): ApprovalDecision | undefined {
  const own = ctx.step?.approval?.decision;
  if (own?.approved) return own;
  if (step.approvedBy === undefined) return undefined;
  const named = ctx.scope.steps[step.approvedBy];
  if (named?.status !== "approved") return undefined;
  const decision = named.output as Partial<ApprovalDecision> | undefined;
  return {
    approved: true,
    by: typeof decision?.by === "string" ? decision.by : "unknown",
    at: typeof decision?.at === "number" ? decision.at : ctx.now(),
    ...(typeof decision?.rationale === "string" ? { rationale: decision.rationale } : {}),
  };
}

/** `approvedBy` must name an approval step of the plan (the grant is checked in the run). */
function approvedByProblems(step: ToolStep, plan: PlanDefinition): HandlerProblem[] {
  if (step.approvedBy === undefined) return [];
  const target = findStep(plan.steps, step.approvedBy);
  if (target?.type === "approval") return [];
  return [
    {
      path: ["approvedBy"],
      message: target
        ? `"${step.approvedBy}" is a ${target.type} step; approvedBy must name an approval step`
        : `no step "${step.approvedBy}" in this plan; approvedBy must name an approval step that precedes this one`,
    },
  ];
}

function findStep(steps: readonly StepDefinition[], id: string): StepDefinition | undefined {
  for (const s of steps) {
    if (s.id === id) return s;
    const nested = [
      ...("steps" in s && Array.isArray(s.steps) ? [s.steps as StepDefinition[]] : []),
      ...("branches" in s && Array.isArray(s.branches)
        ? (s.branches as Array<{ steps: StepDefinition[] }>).map((b) => b.steps)
        : []),
    ];
    for (const inner of nested) {
      const found = findStep(inner, id);
      if (found) return found;
    }
  }
  return undefined;
}

export function lookupTool(ctx: StepContext, name: string): Tool {
  const tools = ctx.services.tools;
  if (!isToolSource(tools)) {
    throw new StepFailure(`no tool registry: pass services.tools (a ToolRegistry) to run tool "${name}"`, {
      code: "configuration",
      retryable: false,
    });
  }
  const tool = tools.get(name);
  if (!tool || typeof tool.run !== "function") {
    throw new StepFailure(`unknown tool "${name}": it is not in the tool registry`, {
      code: "unknown_tool",
      retryable: false,
    });
  }
  return tool;
}

function namesOf(source: object): string[] | undefined {
  const names = (source as { names?: () => Iterable<string> }).names;
  return typeof names === "function" ? [...names.call(source)] : undefined;
}
