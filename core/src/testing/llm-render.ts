import type { LlmReplyFixture, RecordedLlmRequest } from "./llm-fixtures.js";

export type LlmRoute = "openai-chat" | "anthropic-messages";

/** One rendered answer: a JSON body, or server-sent events. */
export type RenderedReply = { json: unknown } | { events: Array<{ event?: string; data: string }> };

// A fixed clock keeps responses byte-for-byte reproducible.
const CREATED = 1_767_225_600;

export function renderReply(
  route: LlmRoute,
  fixture: LlmReplyFixture,
  request: RecordedLlmRequest,
  sequence: number,
): RenderedReply {
  const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<
    string,
    unknown
  >;
  const model = fixture.model ?? (typeof body.model === "string" ? body.model : "scripted");
  const stream = body.stream === true;
  const toolCalls = (fixture.toolCalls ?? []).map((call, index) => ({
    ...call,
    id: call.id ?? (route === "openai-chat" ? `call_${sequence}_${index}` : `toolu_${sequence}_${index}`),
  }));
  const finish = fixture.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
  const usage = fixture.usage ?? { inputTokens: 10, outputTokens: 5 };
  const text = fixture.text ?? "";
  const chunks = splitText(text, fixture.chunkSize ?? 4);
  const id = route === "openai-chat" ? `chatcmpl-scripted-${sequence}` : `msg_scripted_${sequence}`;
  const reply: Reply = { id, model, text, chunks, toolCalls, finish, usage };
  if (route === "openai-chat") {
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return stream ? { events: openAiEvents(reply, includeUsage) } : { json: openAiCompletion(reply) };
  }
  return stream ? { events: anthropicEvents(reply) } : { json: anthropicMessage(reply) };
}

interface Reply {
  id: string;
  model: string;
  text: string;
  chunks: string[];
  toolCalls: Array<{ id: string; name: string; input: Record<string, unknown> }>;
  finish: "stop" | "length" | "tool_calls";
  usage: { inputTokens: number; outputTokens: number };
}

function splitText(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += Math.max(1, size)) chunks.push(text.slice(i, i + Math.max(1, size)));
  return chunks;
}

function openAiUsage(usage: Reply["usage"]) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

function openAiCompletion(r: Reply) {
  return {
    id: r.id,
    object: "chat.completion",
    created: CREATED,
    model: r.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: r.text === "" && r.toolCalls.length > 0 ? null : r.text,
          ...(r.toolCalls.length > 0
            ? {
                tool_calls: r.toolCalls.map((call) => ({
                  id: call.id,
                  type: "function",
                  function: { name: call.name, arguments: JSON.stringify(call.input) },
                })),
              }
            : {}),
        },
        finish_reason: r.finish,
      },
    ],
    usage: openAiUsage(r.usage),
  };
}

function openAiEvents(r: Reply, includeUsage: boolean): Array<{ data: string }> {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    data: JSON.stringify({
      id: r.id,
      object: "chat.completion.chunk",
      created: CREATED,
      model: r.model,
      choices,
      ...extra,
    }),
  });
  const events = [chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])];
  for (const text of r.chunks)
    events.push(chunk([{ index: 0, delta: { content: text }, finish_reason: null }]));
  r.toolCalls.forEach((call, index) => {
    events.push(
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [
              { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
            ],
          },
          finish_reason: null,
        },
      ]),
    );
    events.push(
      chunk([
        {
          index: 0,
          delta: { tool_calls: [{ index, function: { arguments: JSON.stringify(call.input) } }] },
          finish_reason: null,
        },
      ]),
    );
  });
  events.push(chunk([{ index: 0, delta: {}, finish_reason: r.finish }]));
  if (includeUsage) events.push(chunk([], { usage: openAiUsage(r.usage) }));
  events.push({ data: "[DONE]" });
  return events;
}

const ANTHROPIC_STOP = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use" } as const;

function anthropicContent(r: Reply) {
  return [
    ...(r.text !== "" ? [{ type: "text", text: r.text }] : []),
    ...r.toolCalls.map((call) => ({ type: "tool_use", id: call.id, name: call.name, input: call.input })),
  ];
}

function anthropicMessage(r: Reply) {
  return {
    id: r.id,
    type: "message",
    role: "assistant",
    model: r.model,
    content: anthropicContent(r),
    stop_reason: ANTHROPIC_STOP[r.finish],
    stop_sequence: null,
    usage: { input_tokens: r.usage.inputTokens, output_tokens: r.usage.outputTokens },
  };
}

function anthropicEvents(r: Reply): Array<{ event: string; data: string }> {
  const events: Array<{ event: string; data: string }> = [];
  const emit = (event: string, data: Record<string, unknown>) =>
    events.push({ event, data: JSON.stringify({ type: event, ...data }) });
  emit("message_start", {
    message: {
      id: r.id,
      type: "message",
      role: "assistant",
      model: r.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: r.usage.inputTokens, output_tokens: 1 },
    },
  });
  let index = 0;
  if (r.text !== "") {
    emit("content_block_start", { index, content_block: { type: "text", text: "" } });
    for (const text of r.chunks) emit("content_block_delta", { index, delta: { type: "text_delta", text } });
    emit("content_block_stop", { index });
    index++;
  }
  for (const call of r.toolCalls) {
    emit("content_block_start", {
      index,
      content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
    });
    emit("content_block_delta", {
      index,
      delta: { type: "input_json_delta", partial_json: JSON.stringify(call.input) },
    });
    emit("content_block_stop", { index });
    index++;
  }
  emit("message_delta", {
    delta: { stop_reason: ANTHROPIC_STOP[r.finish], stop_sequence: null },
    usage: { output_tokens: r.usage.outputTokens },
  });
  emit("message_stop", {});
  return events;
}
