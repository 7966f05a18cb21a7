import { generateWithModel, streamWithModel } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";

describe("openai-compatible provider over HTTP (Ollama, vLLM, OpenRouter, Mistral, LM Studio)", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  it("talks to the configured base URL without a key when none is configured (local servers)", async () => {
    server.enqueue({ kind: "reply", text: "llama says hi", model: "llama3.1:8b" });
    const registry = createModelRegistry(
      {
        default: "local",
        providers: {
          local: { provider: "openai-compatible", model: "llama3.1:8b", baseUrl: `${server.url}/ollama/v1` },
        },
      },
      { env: {} },
    );
    const result = await generateWithModel(registry.resolve(), { prompt: "hi" });
    expect(result.text).toBe("llama says hi");
    expect(result.model).toEqual({ alias: "local", provider: "openai-compatible", modelId: "llama3.1:8b" });
    expect(server.requests[0]).toMatchObject({
      path: "/ollama/v1/chat/completions",
      body: { model: "llama3.1:8b", messages: [{ role: "user", content: "hi" }] },
    });
    expect(server.requests[0]!.headers).not.toHaveProperty("authorization");
  });

  it("sends a configured key as a bearer token and asks for usage in streams", async () => {
    server.enqueue({ kind: "reply", text: "routed", usage: { inputTokens: 3, outputTokens: 2 } });
    const key = "sk-or-v1-test-key-abcdef";
    const registry = createModelRegistry(
      {
        default: "router",
        providers: {
          router: {
            provider: "openai-compatible",
            model: "mistralai/mistral-small",
            apiKey: key,
            baseUrl: `${server.url}/api/v1`,
            costPerMillionInput: 1,
            costPerMillionOutput: 3,
          },
        },
      },
      { env: {} },
    );
    const stream = streamWithModel(registry.resolve(), { prompt: "go" });
    const result = await stream.result;
    expect(result).toMatchObject({
      text: "routed",
      usage: { inputTokens: 3, outputTokens: 2 },
      cost: 0.000009,
    });
    expect(server.requests[0]).toMatchObject({
      path: "/api/v1/chat/completions",
      headers: { authorization: "Bearer <redacted>" },
      body: { model: "mistralai/mistral-small", stream: true, stream_options: { include_usage: true } },
    });
    expect(server.usedCredential(0, key)).toBe(true);
  });
});
