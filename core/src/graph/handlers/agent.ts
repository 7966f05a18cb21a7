import { toJSONSchema } from "zod/mini";
import { runAgentLoop } from "../../agents/loop.js";
import { type AgentToolSpec, isAgentModel, modelCatalogOf } from "../../models/agent-model.js";
import type { PlanDefinition, StepDefinition } from "../../plan/schema.js";
import { didYouMean } from "../../plan/suggest.js";
import { isToolSource, ToolRegistry } from "../../tools/registry.js";
import type { Tool } from "../../tools/types.js";
import { StepFailure } from "../errors.js";
import type { HandlerProblem, NodeHandler, StepContext } from "../types.js";

type AgentStep = Extract<StepDefinition, { type: "agent" }>;

/**
 * `agent`: the model (the `model` service, an AgentModel) answers the evaluated prompt in rounds,
 * calling the tools the step allows, until it gives a final answer that fits the output schema
 * (repaired once if it does not). See agents/loop.ts for the durable loop and docs/plan-format.md.
 */
export const agentHandler: NodeHandler<AgentStep> = {
  pure: false,
  validate(step, _plan, services): HandlerProblem[] {
    const problems: HandlerProblem[] = [];
    if (!isAgentModel(services.model)) {
      problems.push({
        path: ["type"],
        message: "agent steps need a model: create the PlanFactory with services.model (an AgentModel)",
      });
    }
    const catalog = modelCatalogOf(services.model);
    if (step.model !== undefined && catalog && !catalog.has(step.model)) {
      problems.push({
        path: ["model"],
        message: `unknown model alias "${step.model}"${didYouMean(step.model, catalog.aliases())}; configured aliases: ${catalog.aliases().join(", ")} (models.providers in the configuration)`,
      });
    }
    if (step.tools.length > 0 && !isToolSource(services.tools)) {
      problems.push({
        path: ["tools"],
        message:
          "this agent may call tools but there is no tool registry: pass services.tools (a ToolRegistry)",
      });
    }
    return problems;
  },
  async execute(step, ctx) {
    const model = ctx.services.model;
    if (!isAgentModel(model)) {
      throw new StepFailure("no agent model: pass services.model (an AgentModel) to run agent steps", {
        code: "configuration",
        retryable: false,
      });
    }
    const tools = allowedTools(step, ctx);
    const outputSchema = outputSchemaOf(step, ctx.plan);
    return runAgentLoop(
      {
        stepId: step.id,
        ...(step.model !== undefined ? { model: step.model } : {}),
        ...(step.system !== undefined ? { system: asText(await ctx.evaluate("system")) } : {}),
        prompt: asText(await ctx.evaluate("prompt")),
        tools,
        toolSpecs: tools.map(specOf),
        maxRounds: step.maxRounds,
        ...(outputSchema ? { outputSchema } : {}),
        approvers: step.approvers,
      },
      ctx,
      model,
    );
  },
};

function allowedTools(step: AgentStep, ctx: StepContext): Tool[] {
  if (step.tools.length === 0) return [];
  const source = ctx.services.tools;
  if (!isToolSource(source)) {
    throw new StepFailure("no tool registry: pass services.tools (a ToolRegistry) for agent tools", {
      code: "configuration",
      retryable: false,
    });
  }
  const found = new Map<string, Tool>();
  for (const glob of step.tools) {
    const matched = source instanceof ToolRegistry ? source.match(glob) : exact(source, glob);
    for (const tool of matched) found.set(tool.name, tool);
  }
  return [...found.values()];
}

function exact(source: { get(name: string): Tool | undefined }, name: string): Tool[] {
  const tool = name.includes("*") ? undefined : source.get(name);
  return tool ? [tool] : [];
}

const specs = new WeakMap<Tool, AgentToolSpec>();

/** What the model sees of a tool; its input schema converted to JSON Schema once per tool. */
function specOf(tool: Tool): AgentToolSpec {
  let spec = specs.get(tool);
  if (!spec) {
    spec = {
      name: tool.name,
      description: tool.description,
      inputSchema: toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Record<
        string,
        unknown
      >,
    };
    specs.set(tool, spec);
  }
  return spec;
}

function outputSchemaOf(step: AgentStep, plan: PlanDefinition): Record<string, unknown> | undefined {
  if (step.output === undefined) return undefined;
  if (typeof step.output !== "string") return step.output;
  const named = plan.schemas?.[step.output];
  if (!named) {
    throw new StepFailure(`agent step "${step.id}": schema "${step.output}" is not in the plan's schemas`, {
      code: "configuration",
      retryable: false,
    });
  }
  return named;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined || value === null ? "" : JSON.stringify(value);
}
