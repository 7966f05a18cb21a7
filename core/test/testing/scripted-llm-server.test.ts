import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openAiErrorBody } from "../../src/testing/llm-fixtures.js";
import { ScriptedLlmServer } from "../../src/testing/scripted-llm-server.js";

describe("ScriptedLlmServer", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("listens on an ephemeral loopback port and records requests with credentials redacted", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    server.enqueue({ kind: "reply", text: "hi" });
    const response = await post(
      "/v1/chat/completions?x=1",
      { model: "m", messages: [] },
      { authorization: "Bearer sk-secret-1", "x-trace": "t1" },
    );
    expect(response.status).toBe(200);
    expect(server.requests).toEqual([
      {
        method: "POST",
        path: "/v1/chat/completions?x=1",
        headers: expect.objectContaining({ authorization: "Bearer <redacted>", "x-trace": "t1" }),
        body: { model: "m", messages: [] },
      },
    ]);
    expect(JSON.stringify(server.requests)).not.toContain("sk-secret-1");
    expect(server.usedCredential(0, "sk-secret-1")).toBe(true);
    expect(server.usedCredential(0, "sk-other")).toBe(false);
  });

  it("renders OpenAI completions as JSON, and as SSE chunks ending in [DONE] when streaming", async () => {
    server.enqueue(
      { kind: "reply", text: "abcdef", usage: { inputTokens: 3, outputTokens: 2 } },
      { kind: "reply", text: "abcdef", chunkSize: 3, toolCalls: [{ name: "f", input: { a: 1 } }] },
    );
    const json = await (await post("/v1/chat/completions", { model: "gpt" })).json();
    expect(json).toMatchObject({
      object: "chat.completion",
      model: "gpt",
      choices: [{ message: { role: "assistant", content: "abcdef" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
    const sse = await post("/v1/chat/completions", {
      model: "gpt",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(sse.headers.get("content-type")).toBe("text/event-stream");
    const events = (await sse.text()).trim().split("\n\n");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.replace(/^data: /, "")) as { choices: unknown[]; usage?: unknown });
    expect(chunks.map((c) => JSON.stringify(c.choices))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"content":"abc"'),
        expect.stringContaining('"content":"def"'),
      ]),
    );
    expect(chunks.at(-2)!.choices).toEqual([{ index: 0, delta: {}, finish_reason: "tool_calls" }]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 15 } });
  });

  it("renders Anthropic messages, streamed as named events", async () => {
    server.enqueue({
      kind: "reply",
      text: "hey",
      toolCalls: [{ id: "toolu_x", name: "f", input: { a: 1 } }],
    });
    server.enqueue({ kind: "reply", text: "hey" });
    expect(await (await post("/v1/messages", { model: "claude" })).json()).toMatchObject({
      type: "message",
      content: [
        { type: "text", text: "hey" },
        { type: "tool_use", id: "toolu_x", name: "f", input: { a: 1 } },
      ],
      stop_reason: "tool_use",
    });
    const text = await (await post("/v1/messages", { model: "claude", stream: true })).text();
    expect(text.match(/^event: (\w+)$/gm)).toEqual([
      "event: message_start",
      "event: content_block_start",
      "event: content_block_delta",
      "event: content_block_stop",
      "event: message_delta",
      "event: message_stop",
    ]);
  });

  it("answers errors with their bodies, lets functions choose, and explains missing routes and fixtures", async () => {
    server.enqueue(
      { kind: "error", status: 429, body: openAiErrorBody("slow down"), headers: { "retry-after": "2" } },
      (request) => ({ kind: "reply", text: `you sent ${(request.body as { model: string }).model}` }),
    );
    const limited = await post("/v1/chat/completions", {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(await limited.json()).toEqual(openAiErrorBody("slow down"));
    const chosen = (await (await post("/v1/chat/completions", { model: "m2" })).json()) as {
      choices: Array<{ message: { content: string } }>;
    };
    expect(chosen.choices[0]!.message.content).toBe("you sent m2");
    expect(server.pending).toBe(0);

    const missing = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no route for POST /v1/embeddings");
    const empty = await post("/v1/messages", {});
    expect(empty.status).toBe(500);
    expect(await empty.text()).toContain("no fixture left for request 4");
  });
});
