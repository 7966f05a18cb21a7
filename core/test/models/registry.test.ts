import { describe, expect, it } from "vitest";
import { aatConfigSchema } from "../../src/config/schema.js";
import { OfflineLanguageModel } from "../../src/models/offline/offline-model.js";
import {
  buildModelRegistry,
  ModelConfigError,
  ModelRegistry,
  UnknownModelAliasError,
} from "../../src/models/registry.js";

describe("buildModelRegistry", () => {
  it("gives the embedded default, the offline model under alias default, with no configuration at all", () => {
    const config = aatConfigSchema.parse({});
    const registry = buildModelRegistry(config.models);
    expect(registry.defaultAlias).toBe("default");
    expect(registry.aliases()).toEqual(["default"]);
    const entry = registry.resolve();
    expect(entry).toMatchObject({
      alias: "default",
      provider: "offline",
      modelId: "offline-rules-v1",
      secrets: [],
    });
    expect(entry.model).toBeInstanceOf(OfflineLanguageModel);
  });

  it("resolves aliases to the models the provider factories build, with prices and time limits", () => {
    const built: string[] = [];
    const registry = buildModelRegistry(
      {
        default: "fast",
        providers: {
          fast: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: "sk-test-123456",
            costPerMillionInput: 0.15,
          },
          smart: { provider: "anthropic", model: "claude-sonnet-4-5", timeoutMs: 30_000 },
          demo: { provider: "offline" },
        },
      },
      {
        openai: (alias, config) => {
          built.push(`${alias}:${config.model}`);
          return new OfflineLanguageModel({ modelId: config.model ?? "x" });
        },
        anthropic: (alias, config) => {
          built.push(`${alias}:${config.model}`);
          return new OfflineLanguageModel({ modelId: config.model ?? "x" });
        },
      },
    );
    expect(built).toEqual(["fast:gpt-4o-mini", "smart:claude-sonnet-4-5"]);
    expect(registry.resolve()).toMatchObject({
      alias: "fast",
      provider: "openai",
      modelId: "gpt-4o-mini",
      price: { costPerMillionInput: 0.15 },
      secrets: ["sk-test-123456"],
    });
    expect(registry.resolve("smart")).toMatchObject({ provider: "anthropic", timeoutMs: 30_000 });
    expect(registry.resolve("smart")).not.toHaveProperty("price");
    expect(registry.has("demo")).toBe(true);
    expect(registry.has("slow")).toBe(false);
  });

  it("rejects an unknown alias with the configured ones and a did-you-mean", () => {
    const registry = buildModelRegistry({
      default: "fast",
      providers: { fast: { provider: "offline" }, smart: { provider: "offline" } },
    });
    expect(() => registry.resolve("smrat")).toThrow(UnknownModelAliasError);
    expect(() => registry.resolve("smrat")).toThrow(
      'unknown model alias "smrat" (did you mean "smart"?); configured aliases: fast, smart',
    );
    expect(() => registry.resolve("smrat")).toThrow("AAT_MODEL_SMRAT_PROVIDER");
  });

  it("lists every alias it cannot build, without secrets", () => {
    let error: unknown;
    try {
      buildModelRegistry(
        {
          default: "missing",
          providers: {
            a: { provider: "openai", model: "gpt-4o", apiKey: "sk-live-abcdef123456" },
            b: { provider: "anthropic", model: "claude", apiKey: "sk-ant-secret-999999" },
          },
        },
        {
          anthropic: (_alias, config) => {
            throw new Error(`bad key ${config.apiKey}`);
          },
        },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelConfigError);
    const problems = (error as ModelConfigError).problems;
    expect(problems).toEqual([
      expect.stringContaining("models.providers.a: provider openai is not available in this process"),
      "models.providers.b (anthropic): bad key <redacted>",
      expect.stringContaining('models.default: "missing" is not a configured alias; configured: a, b'),
    ]);
    expect((error as Error).message).not.toContain("sk-ant-secret-999999");
  });

  it("ModelRegistry refuses duplicate aliases and a default that is not configured", () => {
    const entry = {
      alias: "a",
      provider: "offline" as const,
      modelId: "m",
      model: new OfflineLanguageModel(),
      secrets: [],
    };
    expect(() => new ModelRegistry([entry, entry], "a")).toThrow('model alias "a" is configured twice');
    expect(() => new ModelRegistry([entry], "b")).toThrow('unknown model alias "b"');
  });
});
