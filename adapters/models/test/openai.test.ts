import { generateWithModel, LanguageModelAgent, streamWithModel } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { reputationTool, runTurns, verdictSchema } from "./helpers.js";

const KEY = "sk-test-openai-0123456789";

describe("openai provider over HTTP", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  const registry = () =>
    createModelRegistry(
      {
        default: "fast",
        providers: {
          fast: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: KEY,
            baseUrl: server.openAiBaseUrl,
            costPerMillionInput: 0.15,
            costPerMillionOutput: 0.6,
          },
        },
      },
      { env: {} },
    );

  it("sends a chat completion with the key as a bearer token and reports usage and cost", async () => {
    server.enqueue({
      kind: "reply",
      text: "Hello from the scripted server",
      usage: { inputTokens: 1000, outputTokens: 500 },
    });
    const result = await generateWithModel(registry().resolve(), {
      system: "Be brief.",
      prompt: "Say hello",
    });

    expect(result.text).toBe("Hello from the scripted server");
    expect(result.usage).toEqual({ inputTokens: 1000, outputTokens: 500, totalTokens: 1500 });
    expect(result.cost).toBe(0.00045);
    expect(result.model).toEqual({ alias: "fast", provider: "openai", modelId: "gpt-4o-mini" });

    const [request] = server.requests;
    expect(request).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      headers: { authorization: "Bearer <redacted>", "content-type": "application/json" },
      body: {
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hello" },
        ],
      },
    });
    expect(request!.body).not.toHaveProperty("stream");
    expect(server.usedCredential(0, KEY)).toBe(true);
  });

  it("streams: asks for SSE with usage, yields the chunks and the usage at the end", async () => {
    server.enqueue({
      kind: "reply",
      text: "streamed answer",
      chunkSize: 3,
      usage: { inputTokens: 7, outputTokens: 4 },
    });
    const stream = streamWithModel(registry().resolve(), { prompt: "stream please" });
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    expect(deltas).toEqual(["str", "eam", "ed ", "ans", "wer"]);
    expect((await stream.result).usage).toEqual({ inputTokens: 7, outputTokens: 4, totalTokens: 11 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("runs a tool call round trip and a structured answer through the agent port", async () => {
    server.enqueue(
      { kind: "reply", toolCalls: [{ id: "call_1", name: "threatintel_ip", input: { ip: "203.0.113.9" } }] },
      {
        kind: "reply",
        text: JSON.stringify({ verdict: "malicious", rationale: "score 91" }),
        usage: { inputTokens: 40, outputTokens: 12 },
      },
    );
    const calls: Array<{ name: string; input: unknown }> = [];
    const agent = new LanguageModelAgent(registry());
    const reply = await runTurns(agent, {
      tools: [reputationTool],
      callTool: async (name: string, input: unknown) => {
        calls.push({ name, input });
        return { ip: "203.0.113.9", score: 91 };
      },
      outputSchema: verdictSchema,
      maxRounds: 3,
    });

    expect(calls).toEqual([{ name: "threatintel.ip", input: { ip: "203.0.113.9" } }]);
    expect(reply).toMatchObject({
      output: { verdict: "malicious", rationale: "score 91" },
      rounds: 2,
      toolCalls: 1,
      usage: { inputTokens: 50, outputTokens: 17, totalTokens: 67 },
    });
    const [first, second] = server.requests;
    expect(first!.body).toMatchObject({
      tools: [
        {
          type: "function",
          function: {
            name: "threatintel_ip",
            description: "Reputation of an IP address",
            parameters: {
              type: "object",
              properties: { ip: { type: "string", description: "IPv4 address" } },
              required: ["ip"],
            },
          },
        },
      ],
      response_format: { type: "json_schema", json_schema: { strict: false, schema: verdictSchema } },
    });
    expect(second!.body).toMatchObject({
      messages: [
        { role: "user", content: "Is 203.0.113.9 malicious?" },
        {
          role: "assistant",
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "threatintel_ip", arguments: '{"ip":"203.0.113.9"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: JSON.stringify({ ip: "203.0.113.9", score: 91 }) },
      ],
    });
    expect(server.pending).toBe(0);
  });
});
