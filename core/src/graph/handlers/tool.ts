import type { StepDefinition } from "../../plan/schema.js";
import { closest } from "../../plan/suggest.js";
import { toolServices } from "../../tools/context.js";
import { ToolApprovalRequired } from "../../tools/errors.js";
import { isToolSource } from "../../tools/registry.js";
import type { Tool } from "../../tools/types.js";
import { StepFailure } from "../errors.js";
import type { HandlerProblem, NodeHandler, StepContext } from "../types.js";
import { invokeTool } from "./tool-call.js";

type ToolStep = Extract<StepDefinition, { type: "tool" }>;

/**
 * `tool`: evaluate `with`, validate it against the tool's input schema, run the tool under the step's
 * idempotency key, validate its output. The tools come from the `tools` service (a ToolRegistry).
 */
export const toolHandler: NodeHandler<ToolStep> = {
  pure: false,
  validate(step, _plan, services): HandlerProblem[] {
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
    try {
      const output = await invokeTool(tool, input, {
        runId: ctx.runId,
        stepKey: ctx.key,
        attempt: ctx.attempt,
        idempotencyKey: ctx.idempotencyKey,
        signal: ctx.signal,
        ...toolServices(ctx.services),
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
