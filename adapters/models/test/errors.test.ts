import {
  generateWithModel,
  LanguageModelAgent,
  ModelCallError,
  StepFailure,
  streamWithModel,
} from "@aat/core";
import { anthropicErrorBody, openAiErrorBody, ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { runTurns } from "./helpers.js";

const KEY = "sk-test-secret-key-0123456789";

async function failure(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

describe("provider errors through the real SDKs", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  const registry = (timeoutMs?: number) =>
    createModelRegistry(
      {
        default: "fast",
        providers: {
          fast: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: KEY,
            baseUrl: server.openAiBaseUrl,
            ...(timeoutMs ? { timeoutMs } : {}),
          },
          smart: {
            provider: "anthropic",
            model: "claude-sonnet-4-5",
            apiKey: KEY,
            baseUrl: server.anthropicBaseUrl,
          },
        },
      },
      { env: {} },
    );

  it("401: the provider's reason, the key redacted even where the provider echoes it, not retryable", async () => {
    server.enqueue({
      kind: "error",
      status: 401,
      body: openAiErrorBody(
        `Incorrect API key provided: ${KEY}. Find your key at https://platform.openai.com.`,
        "invalid_request_error",
        "invalid_api_key",
      ),
    });
    const error = await failure(generateWithModel(registry().resolve(), { prompt: "hi" }));
    expect(error).toMatchObject({ kind: "auth", status: 401, retryable: false });
    expect(error.reason).toBe(
      "Incorrect API key provided: <redacted>. Find your key at https://platform.openai.com. (invalid_request_error)",
    );
    expect(error.message).toContain('model "fast" (openai gpt-4o-mini) failed with HTTP 401');
    expect(error.message).toContain("AAT_MODEL_FAST_API_KEY");
    expect(
      JSON.stringify({ message: error.message, reason: error.reason, stack: error.stack }),
    ).not.toContain(KEY);
  });

  it("429 and 500 are retryable, reported once (the SDK does not retry behind the step's policy)", async () => {
    server.enqueue(
      {
        kind: "error",
        status: 429,
        body: openAiErrorBody("Rate limit reached for gpt-4o-mini", "requests"),
        headers: { "retry-after": "1" },
      },
      { kind: "error", status: 500, body: openAiErrorBody("The server had an error", "server_error") },
    );
    const limited = await failure(generateWithModel(registry().resolve(), { prompt: "hi" }));
    expect(limited).toMatchObject({ kind: "rate_limited", status: 429, retryable: true });
    expect(limited.reason).toContain("Rate limit reached for gpt-4o-mini");
    const broken = await failure(generateWithModel(registry().resolve(), { prompt: "hi" }));
    expect(broken).toMatchObject({ kind: "provider_unavailable", status: 500, retryable: true });
    expect(server.requests).toHaveLength(2);
  });

  it("the agent port turns them into step failures the retry policy understands", async () => {
    server.enqueue(
      { kind: "error", status: 429, body: openAiErrorBody("slow down") },
      { kind: "error", status: 401, body: openAiErrorBody("bad key") },
    );
    const agent = new LanguageModelAgent(registry());
    const first = await runTurns(agent).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(StepFailure);
    expect(first).toMatchObject({ code: "model.rate_limited", retryable: true, details: { status: 429 } });
    await expect(runTurns(agent)).rejects.toMatchObject({
      code: "model.auth",
      retryable: false,
    });
  });

  it("Anthropic errors carry Anthropic's reason; an overloaded API is retryable", async () => {
    server.enqueue(
      { kind: "error", status: 401, body: anthropicErrorBody("authentication_error", "invalid x-api-key") },
      { kind: "error", status: 529, body: anthropicErrorBody("overloaded_error", "Overloaded") },
    );
    const denied = await failure(generateWithModel(registry().resolve("smart"), { prompt: "hi" }));
    expect(denied).toMatchObject({
      kind: "auth",
      retryable: false,
      reason: "invalid x-api-key (authentication_error)",
    });
    const busy = await failure(generateWithModel(registry().resolve("smart"), { prompt: "hi" }));
    expect(busy).toMatchObject({ kind: "provider_unavailable", status: 529, retryable: true });
  });

  it("an error in a stream is thrown from the stream as a ModelCallError", async () => {
    server.enqueue({
      kind: "error",
      status: 503,
      body: openAiErrorBody("Service Unavailable", "server_error"),
    });
    const stream = streamWithModel(registry().resolve(), { prompt: "hi" });
    const read = (async () => {
      for await (const _ of stream) {
        // reading
      }
    })();
    await expect(read).rejects.toMatchObject({ kind: "provider_unavailable", status: 503, retryable: true });
    await expect(stream.result).rejects.toBeInstanceOf(ModelCallError);
  });

  it("a call slower than the alias's timeoutMs fails as a retryable timeout", async () => {
    server.enqueue({ kind: "reply", text: "too late", delayMs: 2_000 });
    const error = await failure(generateWithModel(registry(100).resolve(), { prompt: "hi" }));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
  });

  it("a provider that cannot be reached is retryable", async () => {
    const { url } = server;
    await server.close();
    const unreachable = createModelRegistry(
      { default: "x", providers: { x: { provider: "openai-compatible", model: "m", baseUrl: `${url}/v1` } } },
      { env: {} },
    );
    const error = await failure(generateWithModel(unreachable.resolve(), { prompt: "hi" }));
    expect(error).toMatchObject({ kind: "provider_unavailable", retryable: true });
    server = await ScriptedLlmServer.start();
  });

  it("a malformed response is reported, not retried", async () => {
    server.enqueue({ kind: "raw", status: 200, body: "{ not json" });
    const error = await failure(generateWithModel(registry().resolve(), { prompt: "hi" }));
    expect(error.retryable).toBe(false);
  });

  it("the server says when it has no fixture left", async () => {
    const error = await failure(generateWithModel(registry().resolve(), { prompt: "hi" }));
    expect(error.reason).toContain("scripted LLM server: no fixture left for request 1");
  });
});
