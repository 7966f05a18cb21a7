import {
  generateText,
  jsonSchema,
  type LanguageModelUsage,
  type OutputInterface,
  stepCountIs,
  streamText,
  type ToolSet,
  tool,
} from "ai";
import { StepFailure } from "../graph/errors.js";
import { type ToolNameMap, toModelMessages, toolNameMap } from "./agent-messages.js";
import type { AgentModel, AgentToolCall, AgentTurn, AgentTurnRequest } from "./agent-model.js";
import { identityOf } from "./call.js";
import { ModelCallError, toModelCallError } from "./errors.js";
import {
  type ModelCatalog,
  type ModelEntry,
  type ModelRegistry,
  UnknownModelAliasError,
} from "./registry.js";
import { costOf, usageFromSdk } from "./usage.js";

/**
 * The AgentModel port on configured models (AI SDK 6): one round is one `generateText` (or, streamed,
 * `streamText`) call with the conversation, the round's tools (no `execute`: the agent loop runs them)
 * and, when the step has an output schema, a JSON response format. The SDK's retries are off; failures
 * become StepFailures whose `retryable` tells the step's retry policy whether trying again can help
 * (429, 5xx, timeouts: yes; 401, bad request: no), with the provider's reason and keys redacted.
 */
export class LanguageModelAgent implements AgentModel {
  constructor(private readonly models: ModelRegistry) {}

  /** The configured aliases, for rejecting unknown `model:` values when plans load. */
  get catalog(): ModelCatalog {
    return this.models;
  }

  async turn(request: AgentTurnRequest): Promise<AgentTurn> {
    const entry = this.resolve(request.model);
    const names = toolNameMap(request.tools, request.messages);
    try {
      const result = await generateText(settings(entry, request, names));
      return reply(entry, names, result.content, result.finishReason, result.usage);
    } catch (error) {
      throw stepFailureOf(error, entry);
    }
  }

  async stream(request: AgentTurnRequest, onTextDelta: (delta: string) => void): Promise<AgentTurn> {
    const entry = this.resolve(request.model);
    const names = toolNameMap(request.tools, request.messages);
    try {
      const result = streamText({ ...settings(entry, request, names), onError: () => {} });
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") onTextDelta(part.text);
        else if (part.type === "error") throw part.error;
      }
      const [content, finishReason, usage] = await Promise.all([
        result.content,
        result.finishReason,
        result.usage,
      ]);
      return reply(entry, names, content, finishReason, usage);
    } catch (error) {
      throw stepFailureOf(error, entry);
    }
  }

  private resolve(alias: string | undefined): ModelEntry {
    try {
      return this.models.resolve(alias);
    } catch (error) {
      if (error instanceof UnknownModelAliasError) {
        throw new StepFailure(error.message, { code: "model.unknown_alias", retryable: false });
      }
      throw error;
    }
  }
}

function settings(entry: ModelEntry, request: AgentTurnRequest, names: ToolNameMap) {
  return {
    model: entry.model,
    ...(request.system !== undefined ? { system: request.system } : {}),
    messages: toModelMessages(request.messages, names),
    ...(request.tools.length > 0 ? { tools: toolSet(request, names) } : {}),
    output: request.outputSchema !== undefined ? jsonText(request.outputSchema) : plainText,
    stopWhen: stepCountIs(1),
    abortSignal: request.signal,
    ...(entry.timeoutMs !== undefined ? { timeout: entry.timeoutMs } : {}),
    maxRetries: 0,
  };
}

function toolSet(request: AgentTurnRequest, names: ToolNameMap): ToolSet {
  const tools: ToolSet = {};
  for (const spec of request.tools) {
    // No execute: the agent loop validates (with field paths), asks for approvals and journals each call.
    tools[names.safe(spec.name)] = tool({
      description: spec.description,
      inputSchema: jsonSchema<unknown>(spec.inputSchema as Parameters<typeof jsonSchema>[0]),
    });
  }
  return tools;
}

/**
 * Asks for JSON matching the schema but returns the text as it came: the agent loop validates it
 * itself, so a mismatch becomes a repair round with field paths instead of an SDK error without them.
 */
function jsonText(schema: Record<string, unknown>): OutputInterface<string, string, never> {
  return {
    name: "json-text",
    responseFormat: Promise.resolve({ type: "json", schema: schema as never }),
    parseCompleteOutput: async ({ text }) => text,
    parsePartialOutput: async ({ text }) => ({ partial: text }),
    createElementStreamTransform: () => undefined,
  };
}

const plainText: OutputInterface<string, string, never> = {
  name: "text",
  responseFormat: Promise.resolve({ type: "text" }),
  parseCompleteOutput: async ({ text }) => text,
  parsePartialOutput: async ({ text }) => ({ partial: text }),
  createElementStreamTransform: () => undefined,
};

type ContentPart =
  | { type: "text"; text: string }
  | { type: "tool-call"; toolCallId: string; toolName: string; input: unknown }
  | { type: string };

function reply(
  entry: ModelEntry,
  names: ToolNameMap,
  content: ReadonlyArray<ContentPart>,
  finishReason: string,
  sdkUsage: LanguageModelUsage,
): AgentTurn {
  let text = "";
  const toolCalls: AgentToolCall[] = [];
  for (const part of content) {
    if (part.type === "text") text += (part as { text: string }).text;
    else if (part.type === "tool-call") {
      const call = part as { toolCallId: string; toolName: string; input: unknown };
      // An unknown name stays as the model wrote it: the loop answers it with "not allowed".
      toolCalls.push({
        id: call.toolCallId,
        name: names.plan(call.toolName) ?? call.toolName,
        input: call.input,
      });
    }
  }
  const usage = usageFromSdk(sdkUsage, entry.provider === "offline");
  const cost = costOf(usage, entry.price);
  return {
    text,
    toolCalls,
    finishReason,
    usage,
    ...(cost !== undefined ? { cost } : {}),
    model: identityOf(entry),
  };
}

function stepFailureOf(error: unknown, entry: ModelEntry): unknown {
  if (error instanceof StepFailure) return error;
  const failure =
    error instanceof ModelCallError ? error : toModelCallError(error, identityOf(entry), entry.secrets);
  return new StepFailure(failure.message, {
    code: `model.${failure.kind}`,
    retryable: failure.retryable,
    details: {
      model: failure.model,
      reason: failure.reason,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
    },
  });
}
