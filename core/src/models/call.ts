import {
  generateText,
  jsonSchema,
  type LanguageModelUsage,
  type ModelMessage,
  Output,
  type StepResult,
  stepCountIs,
  streamText,
  type ToolSet,
} from "ai";
import { ModelCallError, toModelCallError } from "./errors.js";
import type { ModelEntry, ModelIdentity } from "./registry.js";
import { costOf, type ModelUsage, usageFromSdk } from "./usage.js";

/** One request to a configured model: a prompt or messages, optional tools, optional output schema. */
export interface ModelCallRequest {
  system?: string;
  /** A single user message; use `messages` for a conversation. */
  prompt?: string;
  messages?: ModelMessage[];
  /** AI SDK tools; tools with `execute` are run by the SDK between rounds. */
  tools?: ToolSet;
  /** Model rounds allowed (one round = one model call, possibly followed by tool runs). Default 1. */
  maxRounds?: number;
  /** JSON Schema the final answer must match; the parsed value is returned as `output`. */
  outputSchema?: Record<string, unknown>;
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

export interface ModelCallResult {
  /** Text of the last round. */
  text: string;
  /** The parsed structured answer when `outputSchema` was given. */
  output?: unknown;
  /** Model rounds made. */
  rounds: number;
  /** Tool calls the model made across all rounds. */
  toolCalls: number;
  finishReason: string;
  /** Tokens of all rounds together. */
  usage: ModelUsage;
  /** Cost of all rounds at the alias's configured price; absent when the alias has no price. */
  cost?: number;
  model: ModelIdentity;
}

/**
 * Calls the alias's model once (or for up to `maxRounds` rounds with tools) and reports usage and cost.
 * The SDK's own retries are off: whether and when to retry is the step's retry policy, told apart by
 * `ModelCallError.retryable`. Every failure is a ModelCallError with the provider's reason, key redacted.
 */
export async function generateWithModel(
  entry: ModelEntry,
  request: ModelCallRequest,
): Promise<ModelCallResult> {
  const identity = identityOf(entry);
  try {
    const settings = callSettings(entry, request);
    const result = await generateText(settings);
    const output = request.outputSchema === undefined ? undefined : (result.output as unknown);
    return summarise(entry, result.steps, result.totalUsage, result.finishReason, result.text, output);
  } catch (error) {
    throw toModelCallError(error, identity, entry.secrets);
  }
}

/** A streamed call: iterate it for text deltas; `result` settles once the stream has been read to its end. */
export interface ModelStream extends AsyncIterable<string> {
  readonly result: Promise<ModelCallResult>;
}

/** Like generateWithModel, streamed. Errors (also those reported mid-stream) are thrown as ModelCallError. */
export function streamWithModel(entry: ModelEntry, request: ModelCallRequest): ModelStream {
  const identity = identityOf(entry);
  let settle: { resolve(result: ModelCallResult): void; reject(error: unknown): void } | undefined;
  const result = new Promise<ModelCallResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Callers that only await `result` must not see an unhandled rejection from the iteration path too.
  result.catch(() => {});
  let started = false;

  async function* deltas(): AsyncGenerator<string> {
    try {
      const stream = streamText({ ...callSettings(entry, request), onError: () => {} });
      for await (const part of stream.fullStream) {
        if (part.type === "text-delta") yield part.text;
        else if (part.type === "error") throw part.error;
      }
      const [steps, usage, finishReason, text] = await Promise.all([
        stream.steps,
        stream.totalUsage,
        stream.finishReason,
        stream.text,
      ]);
      const output = request.outputSchema === undefined ? undefined : await stream.output;
      settle?.resolve(summarise(entry, steps, usage, finishReason, text, output));
    } catch (error) {
      const failure = toModelCallError(error, identity, entry.secrets);
      settle?.reject(failure);
      throw failure;
    }
  }

  const iterator = (): AsyncGenerator<string> => {
    if (started) throw new Error("a model stream can be read once");
    started = true;
    return deltas();
  };
  return {
    [Symbol.asyncIterator]: iterator,
    get result() {
      if (!started) {
        // Nobody reads the text: drain it so the result still arrives.
        void (async () => {
          try {
            for await (const _ of iterator()) {
              // discard
            }
          } catch {
            // Reported through `result`.
          }
        })();
      }
      return result;
    },
  };
}

function callSettings(entry: ModelEntry, request: ModelCallRequest) {
  if (request.prompt === undefined && (request.messages === undefined || request.messages.length === 0)) {
    throw new ModelCallError({
      model: identityOf(entry),
      kind: "bad_request",
      retryable: false,
      reason: "the request has neither a prompt nor messages",
    });
  }
  const base = {
    model: entry.model,
    ...(request.system !== undefined ? { system: request.system } : {}),
    ...(request.tools !== undefined ? { tools: request.tools } : {}),
    stopWhen: stepCountIs(Math.max(1, request.maxRounds ?? 1)),
    ...(request.outputSchema !== undefined
      ? { output: Output.object({ schema: jsonSchema<unknown>(request.outputSchema) }) }
      : {}),
    ...(request.maxOutputTokens !== undefined ? { maxOutputTokens: request.maxOutputTokens } : {}),
    ...(request.signal !== undefined ? { abortSignal: request.signal } : {}),
    ...(entry.timeoutMs !== undefined ? { timeout: entry.timeoutMs } : {}),
    maxRetries: 0,
  };
  return request.messages !== undefined && request.messages.length > 0
    ? { ...base, messages: request.messages }
    : { ...base, prompt: request.prompt ?? "" };
}

function summarise(
  entry: ModelEntry,
  steps: ReadonlyArray<StepResult<ToolSet>>,
  totalUsage: LanguageModelUsage,
  finishReason: string,
  text: string,
  output: unknown,
): ModelCallResult {
  const usage = usageFromSdk(totalUsage, entry.provider === "offline");
  const cost = costOf(usage, entry.price);
  return {
    text,
    ...(output !== undefined ? { output } : {}),
    rounds: steps.length,
    toolCalls: steps.reduce((n, step) => n + step.toolCalls.length, 0),
    finishReason,
    usage,
    ...(cost !== undefined ? { cost } : {}),
    model: identityOf(entry),
  };
}

export function identityOf(entry: ModelIdentity): ModelIdentity {
  return { alias: entry.alias, provider: entry.provider, modelId: entry.modelId };
}
