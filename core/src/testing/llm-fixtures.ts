/** What the scripted LLM server answers one request with. */
export type LlmFixture = LlmReplyFixture | LlmErrorFixture | LlmRawFixture;

/** A model answer, rendered in the shape of the route it is served on (OpenAI chat or Anthropic messages). */
export interface LlmReplyFixture {
  kind: "reply";
  text?: string;
  toolCalls?: ScriptedToolCall[];
  usage?: { inputTokens: number; outputTokens: number };
  /** Defaults to tool calls when there are any, else stop. */
  finishReason?: "stop" | "length" | "tool_calls";
  /** Model id in the response; the requested model when absent. */
  model?: string;
  /** Characters per streamed text chunk (streamed only when the request asks for it). Default 4. */
  chunkSize?: number;
  /** Wait this long before answering (for time-out tests). */
  delayMs?: number;
}

export interface ScriptedToolCall {
  id?: string;
  name: string;
  input: Record<string, unknown>;
}

/** An HTTP error with the provider's error body, e.g. 401 with `openAiErrorBody("Incorrect API key")`. */
export interface LlmErrorFixture {
  kind: "error";
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Any response, byte for byte (malformed JSON, odd content types). */
export interface LlmRawFixture {
  kind: "raw";
  status: number;
  body: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** A request as the server received it, with credentials redacted. */
export interface RecordedLlmRequest {
  method: string;
  /** Path with query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-cased header names; authorization, x-api-key, api-key and x-goog-api-key read `<redacted>`. */
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export type LlmFixtureSource = LlmFixture | ((request: RecordedLlmRequest) => LlmFixture);

/** The error body OpenAI (and most OpenAI-compatible servers) send. */
export function openAiErrorBody(message: string, type = "invalid_request_error", code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

/** The error body Anthropic sends. */
export function anthropicErrorBody(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

/**
 * A plan whose agent step runs on the offline model (no provider configured): a set step, then an agent
 * step deciding a Verdict. The runtime tests of every target use it to see an agent step go through
 * the step queue and say plainly that the model is the offline one.
 */
export function offlineVerdictPlan(id: string, title: string): string {
  return `id: ${id}
workflow: alerts
title: ${title}
schemas:
  Verdict:
    type: object
    properties:
      verdict: { type: string, enum: [malicious, benign] }
      rationale: { type: string }
    required: [verdict, rationale]
steps:
  - id: intel
    type: set
    values: { score: "{% input.score %}" }
  - id: assess
    type: agent
    prompt: "Threat intel says {% steps.intel.output %}. Decide."
    output: Verdict
`;
}
