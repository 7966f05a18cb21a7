import { generateWithModel, LanguageModelAgent } from "@aat/core";
import { describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { recordingFetch, reputationTool, runTurns } from "./helpers.js";

const MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0";

function converseAnswer(text: string) {
  return {
    body: {
      output: { message: { role: "assistant", content: [{ text }] } },
      stopReason: "end_turn",
      usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
      metrics: { latencyMs: 10 },
    },
  };
}

describe("amazon-bedrock provider: configuration and the request it builds", () => {
  it("with a Bedrock API key: the Converse URL of the region, a bearer token, the Converse body", async () => {
    const { fetch, requests } = recordingFetch(() => converseAnswer("from bedrock"));
    const key = "bedrock-api-key-0123456789";
    const registry = createModelRegistry(
      {
        default: "aws",
        providers: {
          aws: {
            provider: "amazon-bedrock",
            model: MODEL,
            region: "eu-west-1",
            apiKey: key,
            costPerMillionInput: 0.8,
            costPerMillionOutput: 4,
          },
        },
      },
      { env: {}, fetch },
    );
    const result = await generateWithModel(registry.resolve(), {
      system: "Be brief.",
      prompt: "hello",
      maxOutputTokens: 100,
    });

    expect(result).toMatchObject({
      text: "from bedrock",
      usage: { inputTokens: 12, outputTokens: 3 },
      cost: 0.0000216,
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      method: "POST",
      url: `https://bedrock-runtime.eu-west-1.amazonaws.com/model/${encodeURIComponent(MODEL)}/converse`,
      headers: { authorization: `Bearer ${key}` },
      body: {
        system: [{ text: "Be brief." }],
        messages: [{ role: "user", content: [{ text: "hello" }] }],
        inferenceConfig: { maxTokens: 100 },
      },
    });
  });

  it("with AWS credentials: signs the request with SigV4 for bedrock in the configured region", async () => {
    const { fetch, requests } = recordingFetch(() => converseAnswer("signed"));
    const registry = createModelRegistry(
      {
        default: "aws",
        providers: { aws: { provider: "amazon-bedrock", model: MODEL, region: "us-east-1" } },
      },
      {
        env: {},
        fetch,
        bedrockCredentialProvider: async () => ({
          accessKeyId: "AKIAIOSFODNN7EXAMPLE",
          secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }),
      },
    );
    await generateWithModel(registry.resolve(), { prompt: "hello" });
    const headers = requests[0]!.headers;
    expect(requests[0]!.url).toBe(
      `https://bedrock-runtime.us-east-1.amazonaws.com/model/${encodeURIComponent(MODEL)}/converse`,
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    expect(headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it("offers tools in the Converse toolConfig", async () => {
    const { fetch, requests } = recordingFetch(() => converseAnswer("no tool needed"));
    const registry = createModelRegistry(
      {
        default: "aws",
        providers: {
          aws: { provider: "amazon-bedrock", model: MODEL, region: "eu-west-1", apiKey: "k-123456" },
        },
      },
      { env: {}, fetch },
    );
    await runTurns(new LanguageModelAgent(registry), { tools: [reputationTool], maxRounds: 2 });
    expect(requests[0]!.body).toMatchObject({
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: "threatintel_ip",
              description: "Reputation of an IP address",
              inputSchema: { json: expect.objectContaining({ required: ["ip"] }) },
            },
          },
        ],
      },
    });
  });

  it("reads AWS_REGION and refuses to start without a region or any credentials", () => {
    const providers = { aws: { provider: "amazon-bedrock" as const, model: MODEL } };
    const withEnv = createModelRegistry(
      { default: "aws", providers },
      { env: { AWS_REGION: "eu-central-1", AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" } },
    );
    expect(withEnv.resolve().provider).toBe("amazon-bedrock");
    expect(() => createModelRegistry({ default: "aws", providers }, { env: {} })).toThrow(
      "models.providers.aws (amazon-bedrock): region is missing: set models.providers.aws.region (AAT_MODEL_AWS_REGION) or AWS_REGION",
    );
    expect(() =>
      createModelRegistry({ default: "aws", providers }, { env: { AWS_REGION: "eu-west-1" } }),
    ).toThrow("no AWS credentials");
  });
});
