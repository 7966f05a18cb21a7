import { APICallError, type LanguageModelV3 } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { StepFailure } from "../../src/graph/errors.js";
import { generateWithModel, streamWithModel } from "../../src/models/call.js";
import { ModelCallError } from "../../src/models/errors.js";
import { LanguageModelAgent } from "../../src/models/language-model-agent.js";
import { buildModelRegistry, ModelRegistry } from "../../src/models/registry.js";
import { safeToolNames } from "../../src/models/tool-names.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";
import { compile, factory, Harness, plan } from "../graph/harness.js";

const offline = buildModelRegistry({
  default: "default",
  providers: { default: { provider: "offline", costPerMillionInput: 1, costPerMillionOutput: 2 } },
});

const reputation: Tool<{ ip: string }, { ip: string; score: number }> = {
  name: "threatintel.ip",
  description: "IP reputation from the threat-intel service",
  input: z.object({ ip: z.string() }),
  output: z.object({ ip: z.string(), score: z.number() }),
  async run({ ip }) {
    return { ip, score: ip.startsWith("203.") ? 92 : 4 };
  },
};

/** A model whose every call fails with the given provider error (the port, not a provider SDK, is faked). */
function failingModel(error: Error): LanguageModelV3 {
  return {
    specificationVersion: "v3",
    provider: "test",
    modelId: "failing",
    supportedUrls: {},
    doGenerate: () => Promise.reject(error),
    doStream: () => Promise.reject(error),
  };
}

describe("generateWithModel and streamWithModel", () => {
  it("report usage, cost, rounds and the answering model", async () => {
    const result = await generateWithModel(offline.resolve(), { prompt: "x".repeat(40) });
    expect(result.model).toEqual({ alias: "default", provider: "offline", modelId: "offline-rules-v1" });
    expect(result.rounds).toBe(1);
    expect(result.usage.inputTokens).toBe(10);
    expect(result.usage.estimated).toBe(true);
    expect(result.cost).toBe((result.usage.inputTokens * 1 + result.usage.outputTokens * 2) / 1e6);
  });

  it("a stream yields the text in deltas and its result once read; reading only the result works too", async () => {
    const whole = await generateWithModel(offline.resolve(), { prompt: "score: 80" });
    const stream = streamWithModel(offline.resolve(), { prompt: "score: 80" });
    const deltas: string[] = [];
    for await (const delta of stream) deltas.push(delta);
    expect(deltas.join("")).toBe(whole.text);
    expect(await stream.result).toEqual(whole);
    expect(() => stream[Symbol.asyncIterator]()).toThrow("can be read once");
    const unread = streamWithModel(offline.resolve(), { prompt: "score: 80" });
    expect((await unread.result).text).toBe(whole.text);
  });

  it("a request with neither prompt nor messages is refused clearly", async () => {
    await expect(generateWithModel(offline.resolve(), {})).rejects.toThrow("neither a prompt nor messages");
  });

  it("provider failures become ModelCallErrors, also in streams, with the key redacted", async () => {
    const failure = new APICallError({
      message: "Unauthorized",
      url: "https://api.test/v1/chat/completions",
      requestBodyValues: {},
      statusCode: 401,
      responseBody: JSON.stringify({ error: { message: "invalid key sk-test-secret-1234" } }),
    });
    const registry = new ModelRegistry(
      [
        {
          alias: "x",
          provider: "openai",
          modelId: "failing",
          model: failingModel(failure),
          secrets: ["sk-test-secret-1234"],
        },
      ],
      "x",
    );
    const error = await generateWithModel(registry.resolve(), { prompt: "hi" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect((error as ModelCallError).message).toContain("invalid key <redacted>");
    const stream = streamWithModel(registry.resolve(), { prompt: "hi" });
    await expect(async () => {
      for await (const _ of stream) {
        // reading
      }
    }).rejects.toThrow(/HTTP 401: invalid key <redacted>/);
    await expect(stream.result).rejects.toBeInstanceOf(ModelCallError);
  });
});

describe("LanguageModelAgent", () => {
  const request = {
    messages: [{ role: "user" as const, text: "hi" }],
    tools: [],
    signal: new AbortController().signal,
  };

  it("fails an unknown alias as a non-retryable step failure naming the configured aliases", async () => {
    const agent = new LanguageModelAgent(offline);
    const error = await agent.turn({ ...request, model: "smart" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailure);
    expect(error).toMatchObject({ code: "model.unknown_alias", retryable: false });
    expect((error as Error).message).toContain("configured aliases: default");
    expect(agent.catalog.has("default")).toBe(true);
  });

  it("makes the plan loader reject an agent step naming an alias that is not configured", () => {
    const registry = buildModelRegistry({
      default: "fast",
      providers: { fast: { provider: "offline" }, smart: { provider: "offline" } },
    });
    const step = (model: string) => ({ id: "assess", type: "agent" as const, model, prompt: "Decide" });
    const check = (model: string) =>
      factory({ model: new LanguageModelAgent(registry) }).check(plan({ steps: [step(model)] }));
    expect(check("smrat")).toEqual([
      {
        path: ["steps", 0, "model"],
        message:
          'unknown model alias "smrat" (did you mean "smart"?); configured aliases: fast, smart (models.providers in the configuration)',
      },
    ]);
    expect(check("smart")).toEqual([]);
  });

  it("turns a 429 into a retryable step failure and a 401 into a final one", async () => {
    const make = (status: number) =>
      new LanguageModelAgent(
        new ModelRegistry(
          [
            {
              alias: "default",
              provider: "openai",
              modelId: "m",
              model: failingModel(
                new APICallError({
                  message: `HTTP ${status}`,
                  url: "https://api.test",
                  requestBodyValues: {},
                  statusCode: status,
                  responseBody: JSON.stringify({ error: { message: `reason ${status}` } }),
                  isRetryable: status === 429,
                }),
              ),
              secrets: [],
            },
          ],
          "default",
        ),
      );
    await expect(make(429).turn(request)).rejects.toMatchObject({
      code: "model.rate_limited",
      retryable: true,
      details: { status: 429 },
    });
    await expect(make(401).turn(request)).rejects.toMatchObject({ code: "model.auth", retryable: false });
  });

  it("gives provider-safe tool names", () => {
    expect([...safeToolNames(["threatintel.ip", "threatintel_ip", "a b"]).entries()]).toEqual([
      ["threatintel_ip", "threatintel.ip"],
      ["threatintel_ip_2", "threatintel_ip"],
      ["a_b", "a b"],
    ]);
  });

  it("completes a triage plan offline: tool step, agent step with tools, branch on the verdict", async () => {
    const triage = {
      schemas: {
        Verdict: {
          type: "object",
          properties: {
            verdict: { type: "string", enum: ["malicious", "suspicious", "benign"] },
            confidence: { type: "number", minimum: 0, maximum: 1 },
            rationale: { type: "string" },
          },
          required: ["verdict", "rationale"],
        },
      },
      steps: [
        {
          id: "reputation",
          type: "tool" as const,
          tool: "threatintel.ip",
          with: { ip: "{% input.source.ip %}" },
        },
        {
          id: "assess",
          type: "agent" as const,
          prompt:
            "Decide whether this alert is a true positive. Alert: {% $string(input) %}. Reputation: {% $string(steps.reputation.output) %}",
          tools: ["threatintel.*"],
          output: "Verdict",
        },
        {
          id: "decide",
          type: "branch" as const,
          cases: [{ when: "{% steps.assess.output.verdict = 'malicious' %}", next: "contain" }],
          default: "close",
        },
        { id: "contain", type: "set" as const, values: { action: "contain" }, end: true },
        { id: "close", type: "set" as const, values: { action: "close" }, end: true },
      ],
    };
    const tools = new ToolRegistry([reputation]);
    const run = async (ip: string) => {
      const h = new Harness(compile(triage, { tools, model: new LanguageModelAgent(offline) }));
      h.start({ source: { ip }, severity: "high" });
      return h.drain();
    };

    const bad = await run("203.0.113.9");
    expect(bad.status).toBe("succeeded");
    expect(bad.steps.assess!.output).toMatchObject({
      verdict: "malicious",
      confidence: 0,
      rationale: expect.stringMatching(/^\[offline model\] verdict = "malicious"/),
      generatedBy: expect.stringContaining("offline model"),
    });
    expect(bad.output).toEqual({ action: "contain" });

    const fine = await run("198.51.100.1");
    expect(fine.steps.assess!.output).toMatchObject({ verdict: "benign" });
    expect(fine.output).toEqual({ action: "close" });
  });
});
