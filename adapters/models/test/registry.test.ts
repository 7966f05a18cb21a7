import { aatConfigSchema, loadConfig, OfflineLanguageModel } from "@aat/core";
import { describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";

describe("createModelRegistry", () => {
  it("builds every provider from the configuration's models section", () => {
    const config = aatConfigSchema.parse({
      models: {
        default: "fast",
        providers: {
          fast: { provider: "openai", model: "gpt-4o-mini", apiKey: "sk-a-123456" },
          smart: { provider: "anthropic", model: "claude-sonnet-4-5", apiKey: "sk-ant-123456" },
          local: { provider: "openai-compatible", model: "llama3.1", baseUrl: "http://127.0.0.1:11434/v1" },
          corp: {
            provider: "azure",
            model: "gpt-4o",
            apiKey: "az-123456",
            baseUrl: "https://contoso.openai.azure.com/openai",
          },
          aws: {
            provider: "amazon-bedrock",
            model: "amazon.nova-lite-v1:0",
            region: "eu-west-1",
            apiKey: "br-123456",
          },
          gcp: {
            provider: "google-vertex",
            model: "gemini-2.5-flash",
            project: "aat-demo-project",
            region: "europe-west4",
          },
          demo: { provider: "offline" },
        },
      },
    });
    const registry = createModelRegistry(config.models, { env: {} });
    expect(registry.aliases()).toEqual(["fast", "smart", "local", "corp", "aws", "gcp", "demo"]);
    expect(
      registry.aliases().map((alias) => {
        const { provider, modelId, model } = registry.resolve(alias);
        return [alias, provider, modelId, model.provider];
      }),
    ).toEqual([
      ["fast", "openai", "gpt-4o-mini", "openai.chat"],
      ["smart", "anthropic", "claude-sonnet-4-5", "anthropic.messages"],
      ["local", "openai-compatible", "llama3.1", "local.chat"],
      ["corp", "azure", "gpt-4o", "azure.chat"],
      ["aws", "amazon-bedrock", "amazon.nova-lite-v1:0", "amazon-bedrock"],
      ["gcp", "google-vertex", "gemini-2.5-flash", "google.vertex.chat"],
      ["demo", "offline", "offline-rules-v1", "offline"],
    ]);
    expect(registry.resolve("demo").model).toBeInstanceOf(OfflineLanguageModel);
    expect(registry.resolve().alias).toBe("fast");
  });

  it("reads aliases from AAT_MODEL_<ALIAS>_* variables and falls back to the provider's own key variable", () => {
    const { config } = loadConfig({
      env: {
        AAT_MODELS_DEFAULT: "fast",
        AAT_MODEL_FAST_PROVIDER: "openai",
        AAT_MODEL_FAST_MODEL: "gpt-4o-mini",
        AAT_MODEL_FAST_COST_PER_MILLION_INPUT: "0.15",
      },
    });
    expect(
      createModelRegistry(config.models, { env: { OPENAI_API_KEY: "sk-env-123456" } }).resolve(),
    ).toMatchObject({
      alias: "fast",
      price: { costPerMillionInput: 0.15 },
    });
  });

  it("lists every alias that cannot start, each with the setting to fix", () => {
    let message = "";
    try {
      createModelRegistry(
        {
          default: "fast",
          providers: {
            fast: { provider: "openai", model: "gpt-4o-mini" },
            smart: { provider: "anthropic", model: "claude-sonnet-4-5" },
          },
        },
        { env: {} },
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      [
        "model configuration is invalid:",
        "- models.providers.fast (openai): no API key: set models.providers.fast.apiKey (AAT_MODEL_FAST_API_KEY) or OPENAI_API_KEY",
        "- models.providers.smart (anthropic): no API key: set models.providers.smart.apiKey (AAT_MODEL_SMART_API_KEY) or ANTHROPIC_API_KEY",
      ].join("\n"),
    );
  });
});
