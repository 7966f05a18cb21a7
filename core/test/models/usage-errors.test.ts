import { APICallError, LoadAPIKeyError, LoadSettingError } from "@ai-sdk/provider";
import { RetryError } from "ai";
import { describe, expect, it } from "vitest";
import { ModelCallError, redactSecrets, toModelCallError } from "../../src/models/errors.js";
import { addUsage, costOf, usageFromSdk } from "../../src/models/usage.js";

const model = { alias: "fast", provider: "openai" as const, modelId: "gpt-4o-mini" };

function apiError(status: number | undefined, body: string, isRetryable?: boolean): APICallError {
  return new APICallError({
    message: status ? `HTTP ${status}` : "Cannot connect to API: connect ECONNREFUSED",
    url: "https://api.example.com/v1/chat/completions?key=AIzaSyA-not-really-a-key-0000",
    requestBodyValues: {},
    ...(status !== undefined ? { statusCode: status } : {}),
    responseBody: body,
    ...(isRetryable !== undefined ? { isRetryable } : {}),
  });
}

describe("usage and cost", () => {
  it("turns SDK usage into numbers, adds calls and prices them per million tokens", () => {
    const one = usageFromSdk({
      inputTokens: 1200,
      outputTokens: 300,
      totalTokens: undefined,
      inputTokenDetails: {
        noCacheTokens: undefined,
        cacheReadTokens: undefined,
        cacheWriteTokens: undefined,
      },
      outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
    });
    expect(one).toEqual({ inputTokens: 1200, outputTokens: 300, totalTokens: 1500 });
    const two = addUsage(one, { inputTokens: 800, outputTokens: 700, totalTokens: 1500, estimated: true });
    expect(two).toEqual({ inputTokens: 2000, outputTokens: 1000, totalTokens: 3000, estimated: true });
    expect(costOf(two, { costPerMillionInput: 0.15, costPerMillionOutput: 0.6 })).toBe(0.0009);
    expect(costOf(two, { costPerMillionOutput: 10 })).toBe(0.01);
    expect(costOf(two, undefined)).toBeUndefined();
    expect(costOf(two, {})).toBeUndefined();
  });
});

describe("model errors", () => {
  it("401: the provider's reason, the key redacted, not retryable, with a hint where to fix it", () => {
    const error = toModelCallError(
      apiError(
        401,
        JSON.stringify({
          error: {
            message: "Incorrect API key provided: sk-proj-abcdef123456.",
            type: "invalid_request_error",
          },
        }),
      ),
      model,
      ["sk-proj-abcdef123456"],
    );
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error).toMatchObject({ kind: "auth", retryable: false, status: 401 });
    expect(error.reason).toBe("Incorrect API key provided: <redacted>. (invalid_request_error)");
    expect(error.message).toContain('model "fast" (openai gpt-4o-mini) failed with HTTP 401');
    expect(error.message).toContain("AAT_MODEL_FAST_API_KEY");
    expect(error.message).not.toContain("sk-proj");
  });

  it("429 and 5xx are retryable; Anthropic's error shape is read too", () => {
    const limited = toModelCallError(
      apiError(
        429,
        JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "Rate limited" } }),
      ),
      model,
      [],
    );
    expect(limited).toMatchObject({
      kind: "rate_limited",
      retryable: true,
      reason: "Rate limited (rate_limit_error)",
    });
    const down = toModelCallError(apiError(503, "upstream unavailable", false), model, []);
    expect(down).toMatchObject({
      kind: "provider_unavailable",
      retryable: true,
      reason: "upstream unavailable",
    });
    const bad = toModelCallError(apiError(400, JSON.stringify({ message: "model not found" })), model, []);
    expect(bad).toMatchObject({ kind: "bad_request", retryable: false, reason: "model not found" });
  });

  it("unwraps RetryError, maps connection failures, missing keys, timeouts and aborts", () => {
    const wrapped = new RetryError({
      message: "failed after 3 attempts",
      reason: "maxRetriesExceeded",
      errors: [apiError(500, "boom"), apiError(429, "slow down")],
    });
    expect(toModelCallError(wrapped, model, [])).toMatchObject({ kind: "rate_limited", reason: "slow down" });
    expect(toModelCallError(apiError(undefined, "", true), model, [])).toMatchObject({
      kind: "provider_unavailable",
      retryable: true,
    });
    const missing = toModelCallError(
      new LoadAPIKeyError({ message: "OpenAI API key is missing." }),
      model,
      [],
    );
    expect(missing).toMatchObject({ kind: "configuration", retryable: false });
    const setting = toModelCallError(
      new LoadSettingError({ message: "Azure OpenAI resource name setting is missing." }),
      model,
      [],
    );
    expect(setting).toMatchObject({ kind: "configuration", retryable: false });
    const timeout = new DOMException("The operation timed out.", "TimeoutError");
    expect(toModelCallError(timeout, model, [])).toMatchObject({ kind: "timeout", retryable: true });
    const unsigned = new Error("AWS SigV4 authentication requires AWS credentials. Please provide either: …");
    expect(toModelCallError(unsigned, model, [])).toMatchObject({ kind: "configuration", retryable: false });
    const abort = new DOMException("This operation was aborted", "AbortError");
    expect(toModelCallError(abort, model, [])).toMatchObject({ kind: "aborted", retryable: false });
  });

  it("redacts configured secrets and anything shaped like a credential", () => {
    const text =
      "key my-own-secret-value, Authorization: Bearer abcdefghijkl0123, sk-ant-api03-xyzxyzxyz, AKIAABCDEFGHIJKLMNOP, https://x.test/?key=AIzaSecret&x=1";
    expect(redactSecrets(text, ["my-own-secret-value"])).toBe(
      "key <redacted>, Authorization: Bearer <redacted>, <redacted>, <redacted>, https://x.test/?key=<redacted>&x=1",
    );
  });
});
