import { z } from "zod";
import { isAgentModel, modelCatalogOf } from "../../models/agent-model.js";
import type { PlanDefinition, StepDefinition } from "../../plan/schema.js";
import { didYouMean } from "../../plan/suggest.js";
import { isToolSource, ToolRegistry } from "../../tools/registry.js";
import type { Tool } from "../../tools/types.js";
import { formatIssues, StepFailure } from "../errors.js";
import type { HandlerProblem, NodeHandler, StepContext } from "../types.js";
import { invokeTool } from "./tool-call.js";

type AgentStep = Extract<StepDefinition, { type: "agent" }>;

/**
 * `agent`: one call to the `model` service (an AgentModel) with the evaluated prompt, the tools the
 * step allows and its output schema; the model's output, checked against that schema, is the step's.
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
    const prompt = asText(await ctx.evaluate("prompt"));
    const system = step.system === undefined ? undefined : asText(await ctx.evaluate("system"));
    const tools = allowedTools(step, ctx);
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const outputSchema = outputSchemaOf(step, ctx.plan);
    const reply = await model.generate({
      ...(step.model !== undefined ? { model: step.model } : {}),
      ...(system !== undefined ? { system } : {}),
      prompt,
      tools,
      callTool: (name, input) => {
        const tool = byName.get(name);
        if (!tool) {
          return Promise.reject(
            new StepFailure(
              `agent step "${step.id}" may not call tool "${name}"; allowed: ${[...byName.keys()].join(", ") || "none"}`,
              {
                code: "tool_not_allowed",
                retryable: false,
              },
            ),
          );
        }
        return invokeTool(tool, input, {
          runId: ctx.runId,
          stepKey: ctx.key,
          attempt: ctx.attempt,
          idempotencyKey: `${ctx.idempotencyKey}/${name}`,
          signal: ctx.signal,
        });
      },
      ...(outputSchema ? { outputSchema } : {}),
      maxRounds: step.maxRounds,
      signal: ctx.signal,
    });
    if (outputSchema) {
      const checked = validatorFor(outputSchema).safeParse(reply.output);
      if (!checked.success) {
        throw new StepFailure(
          `agent step "${step.id}": the model's output does not match its schema: ${formatIssues(checked.error.issues)}`,
          {
            code: "agent_output_invalid",
            retryable: true,
          },
        );
      }
    }
    return { kind: "done", output: reply.output };
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

const validators = new WeakMap<object, z.ZodType>();

/** JSON Schemas are compiled to zod once per schema object (plans are immutable once loaded). */
function validatorFor(schema: Record<string, unknown>): z.ZodType {
  let validator = validators.get(schema);
  if (!validator) {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    validators.set(schema, validator);
  }
  return validator;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  return value === undefined || value === null ? "" : JSON.stringify(value);
}
