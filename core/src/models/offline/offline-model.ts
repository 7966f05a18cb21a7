import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";
import { type Assessment, assess } from "./assessment.js";
import { collectFacts, type Fact } from "./facts.js";
import {
  fillSchema,
  GENERATED_BY,
  GENERATED_BY_FIELD,
  NO_UNDERSTANDING,
  OFFLINE_LABEL,
} from "./schema-fill.js";
import { planToolCalls } from "./tool-calls.js";

export const OFFLINE_PROVIDER = "offline";
export const OFFLINE_MODEL_ID = "offline-rules-v1";

/** Provider metadata on every result, so callers can tell offline output apart without parsing text. */
const OFFLINE_METADATA = { offline: { generatedBy: GENERATED_BY, languageUnderstanding: false } };

/**
 * A language model (AI SDK specification v3) that needs no network and no weights: it reads the values
 * in tool results and the prompt, applies fixed rules (docs/models.md) and says so in everything it
 * writes. The same prompt always gets the same answer. It is the embedded default when no provider is
 * configured, so plans complete sensibly offline; it never claims to understand free text.
 */
export class OfflineLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = "v3";
  readonly provider = OFFLINE_PROVIDER;
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]> = {};

  constructor(options: { modelId?: string } = {}) {
    this.modelId = options.modelId ?? OFFLINE_MODEL_ID;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const answer = await this.answer(options);
    return {
      content: answer.content,
      finishReason: answer.finishReason,
      usage: answer.usage,
      providerMetadata: OFFLINE_METADATA,
      response: { id: answer.id, modelId: this.modelId },
      warnings: [],
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const answer = await this.answer(options);
    const parts: LanguageModelV3StreamPart[] = [
      { type: "stream-start", warnings: [] },
      { type: "response-metadata", id: answer.id, modelId: this.modelId },
    ];
    for (const item of answer.content) {
      if (item.type === "text") {
        parts.push({ type: "text-start", id: "text-0" });
        for (const delta of chunks(item.text)) parts.push({ type: "text-delta", id: "text-0", delta });
        parts.push({ type: "text-end", id: "text-0" });
      } else if (item.type === "tool-call") {
        parts.push({ type: "tool-input-start", id: item.toolCallId, toolName: item.toolName });
        parts.push({ type: "tool-input-delta", id: item.toolCallId, delta: item.input });
        parts.push({ type: "tool-input-end", id: item.toolCallId });
        parts.push(item);
      }
    }
    parts.push({
      type: "finish",
      usage: answer.usage,
      finishReason: answer.finishReason,
      providerMetadata: OFFLINE_METADATA,
    });
    const signal = options.abortSignal;
    let index = 0;
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      pull(controller) {
        if (signal?.aborted) {
          controller.error(abortError(signal));
          return;
        }
        const part = parts[index++];
        if (part === undefined) controller.close();
        else controller.enqueue(part);
      },
    });
    return { stream };
  }

  private async answer(options: LanguageModelV3CallOptions): Promise<{
    id: string;
    content: LanguageModelV3Content[];
    finishReason: LanguageModelV3FinishReason;
    usage: LanguageModelV3Usage;
  }> {
    if (options.abortSignal?.aborted) throw abortError(options.abortSignal);
    const { facts, calledTools, promptChars } = collectFacts(options.prompt);
    const round = options.prompt.filter((m) => m.role === "assistant").length;
    const id = `offline-${round}`;
    const calls = planToolCalls(options, facts, calledTools);
    if (calls.length > 0) {
      const content: LanguageModelV3Content[] = calls.map((call, index) => ({
        type: "tool-call",
        toolCallId: `offline-call-${round}-${index}`,
        toolName: call.toolName,
        input: JSON.stringify(call.input),
      }));
      const outputChars = content.reduce((n, c) => n + (c.type === "tool-call" ? c.input.length : 0), 0);
      return {
        id,
        content,
        finishReason: { unified: "tool-calls", raw: "tool_calls" },
        usage: estimate(promptChars, outputChars),
      };
    }
    const assessment = assess(facts);
    const format = options.responseFormat;
    const text =
      format?.type === "json"
        ? JSON.stringify(
            format.schema
              ? await fillSchema(format.schema as Record<string, unknown>, facts, assessment)
              : { [GENERATED_BY_FIELD]: GENERATED_BY, note: NO_UNDERSTANDING, assessment: assessment.level },
          )
        : plainAnswer(facts, assessment);
    return {
      id,
      content: [{ type: "text", text }],
      finishReason: { unified: "stop", raw: "stop" },
      usage: estimate(promptChars, text.length),
    };
  }
}

/** The text answer: what the model is, what it found and what it concluded, nothing more. */
function plainAnswer(facts: readonly Fact[], assessment: Assessment): string {
  const lines = [
    `${OFFLINE_LABEL} No language model is configured, so this answer comes from fixed rules, not from understanding the request.`,
  ];
  if (facts.length === 0) {
    lines.push("I found no values to work with in the conversation, and I cannot read free text.");
  } else {
    const shown = facts.slice(0, 12).map((f) => `${f.path}=${JSON.stringify(f.value)} (${f.source})`);
    lines.push(
      `Values found: ${shown.join(", ")}${facts.length > shown.length ? `, and ${facts.length - shown.length} more` : ""}.`,
    );
    lines.push(`Assessment: ${assessment.level} risk; ${assessment.basis}.`);
  }
  lines.push("Configure a provider under models.providers for real answers (docs/models.md).");
  return lines.join("\n");
}

/** Token counts are estimated from characters (about four per token) and marked as estimates. */
function estimate(inputChars: number, outputChars: number): LanguageModelV3Usage {
  const input = Math.ceil(inputChars / 4);
  const output = Math.ceil(outputChars / 4);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
    raw: { estimated: true },
  };
}

/** Splits text into word-sized deltas (each keeps its trailing whitespace), so streams look like streams. */
function chunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error("the offline model call was aborted");
  error.name = "AbortError";
  return error;
}
