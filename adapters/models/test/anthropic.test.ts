import { generateWithModel, LanguageModelAgent, streamWithModel } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { reputationTool, runTurns, verdictSchema } from "./helpers.js";

const KEY = "sk-ant-test-0123456789abcdef";

describe("anthropic provider over HTTP", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  const registry = () =>
    createModelRegistry(
      {
        default: "smart",
        providers: {
          smart: {
            provider: "anthropic",
            model: "claude-sonnet-4-5",
            apiKey: KEY,
            baseUrl: server.anthropicBaseUrl,
            costPerMillionInput: 3,
            costPerMillionOutput: 15,
          },
        },
      },
      { env: {} },
    );

  it("sends a Messages request with x-api-key, the version header, system and max_tokens", async () => {
    server.enqueue({ kind: "reply", text: "Bonjour", usage: { inputTokens: 20, outputTokens: 3 } });
    const result = await generateWithModel(registry().resolve(), {
      system: "Answer in French.",
      prompt: "Hello",
    });

    expect(result).toMatchObject({
      text: "Bonjour",
      usage: { inputTokens: 20, outputTokens: 3, totalTokens: 23 },
    });
    expect(result.cost).toBe(0.000105);
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: "POST",
      path: "/v1/messages",
      headers: { "x-api-key": "<redacted>", "anthropic-version": "2023-06-01" },
      body: {
        model: "claude-sonnet-4-5",
        system: [{ type: "text", text: "Answer in French." }],
        messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
        max_tokens: expect.any(Number),
      },
    });
    expect(request!.headers).not.toHaveProperty("authorization");
    expect(server.usedCredential(0, KEY)).toBe(true);
  });

  it("streams text deltas from the SSE events with the usage of message_delta", async () => {
    server.enqueue({
      kind: "reply",
      text: "one two three",
      chunkSize: 4,
      usage: { inputTokens: 9, outputTokens: 6 },
    });
    const stream = streamWithModel(registry().resolve(), { prompt: "count" });
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    expect(deltas.join("")).toBe("one two three");
    expect(deltas.length).toBe(4);
    expect((await stream.result).usage).toMatchObject({ inputTokens: 9, outputTokens: 6 });
    expect(server.requests[0]!.body).toMatchObject({ stream: true });
  });

  it("runs a tool_use round trip and returns the structured answer", async () => {
    server.enqueue(
      {
        kind: "reply",
        text: "Let me check.",
        toolCalls: [{ id: "toolu_1", name: "threatintel_ip", input: { ip: "203.0.113.9" } }],
      },
      { kind: "reply", text: JSON.stringify({ verdict: "malicious" }) },
    );
    const agent = new LanguageModelAgent(registry());
    const reply = await runTurns(agent, {
      tools: [reputationTool],
      callTool: async () => ({ ip: "203.0.113.9", score: 91 }),
      outputSchema: verdictSchema,
      maxRounds: 3,
    });
    expect(reply.output).toEqual({ verdict: "malicious" });
    const [first, second] = server.requests;
    expect(first!.body).toMatchObject({
      tools: expect.arrayContaining([
        expect.objectContaining({
          name: "threatintel_ip",
          description: "Reputation of an IP address",
          input_schema: expect.objectContaining({
            properties: { ip: expect.objectContaining({ type: "string" }) },
          }),
        }),
      ]),
    });
    expect(second!.body).toMatchObject({
      output_config: {
        format: { type: "json_schema", schema: expect.objectContaining({ required: ["verdict"] }) },
      },
      messages: [
        { role: "user" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "toolu_1", name: "threatintel_ip", input: { ip: "203.0.113.9" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              content: JSON.stringify({ ip: "203.0.113.9", score: 91 }),
            },
          ],
        },
      ],
    });
  });
});
