import { jsonSchema, type ToolSet, tool } from "ai";
import { z } from "zod";
import { StepFailure } from "../graph/errors.js";
import type { AgentModel, AgentReply, AgentRequest } from "./agent-model.js";
import { generateWithModel } from "./call.js";
import { ModelCallError } from "./errors.js";
import { type ModelCatalog, type ModelRegistry, UnknownModelAliasError } from "./registry.js";
import { safeToolNames } from "./tool-names.js";

/**
 * The AgentModel port on configured models: one agent step is one `generateWithModel` call with the
 * step's tools (run through `request.callTool`, so inputs and outputs are validated and idempotent),
 * up to `maxRounds` rounds, and the step's output schema. Failures become StepFailures whose
 * `retryable` says whether the step's retry policy should try again (429, 5xx, timeouts: yes).
 */
export class LanguageModelAgent implements AgentModel {
  constructor(private readonly models: ModelRegistry) {}

  /** The configured aliases, for rejecting unknown `model:` values when plans load. */
  get catalog(): ModelCatalog {
    return this.models;
  }

  async generate(request: AgentRequest): Promise<AgentReply> {
    let entry: ReturnType<ModelRegistry["resolve"]>;
    try {
      entry = this.models.resolve(request.model);
    } catch (error) {
      if (error instanceof UnknownModelAliasError) {
        throw new StepFailure(error.message, { code: "model.unknown_alias", retryable: false });
      }
      throw error;
    }
    try {
      const result = await generateWithModel(entry, {
        ...(request.system !== undefined ? { system: request.system } : {}),
        prompt: request.prompt,
        ...(request.tools.length > 0 ? { tools: toolSet(request) } : {}),
        maxRounds: request.maxRounds,
        ...(request.outputSchema !== undefined ? { outputSchema: request.outputSchema } : {}),
        signal: request.signal,
      });
      return {
        output: request.outputSchema !== undefined ? result.output : result.text,
        usage: result.usage,
        ...(result.cost !== undefined ? { cost: result.cost } : {}),
        model: result.model,
        rounds: result.rounds,
        toolCalls: result.toolCalls,
      };
    } catch (error) {
      if (error instanceof ModelCallError) {
        throw new StepFailure(error.message, {
          code: `model.${error.kind}`,
          retryable: error.retryable,
          details: { model: error.model, ...(error.status !== undefined ? { status: error.status } : {}) },
        });
      }
      throw error;
    }
  }
}

function toolSet(request: AgentRequest): ToolSet {
  const byName = new Map(request.tools.map((t) => [t.name, t]));
  const tools: ToolSet = {};
  for (const [safe, name] of safeToolNames([...byName.keys()])) {
    const definition = byName.get(name)!;
    tools[safe] = tool({
      description: definition.description,
      // Validation stays in callTool (one place, with field paths); the model only needs the shape.
      inputSchema: jsonSchema<unknown>(
        z.toJSONSchema(definition.input, { io: "input", unrepresentable: "any" }) as Parameters<
          typeof jsonSchema
        >[0],
      ),
      execute: (input: unknown) => request.callTool(name, input),
    });
  }
  return tools;
}
