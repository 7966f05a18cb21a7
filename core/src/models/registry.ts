import type { LanguageModelV3 } from "@ai-sdk/provider";
import type { AatConfig, ModelProviderConfig, ModelProviderKind } from "../config/schema.js";
import { didYouMean } from "../plan/suggest.js";
import { redactSecrets } from "./errors.js";
import { OFFLINE_MODEL_ID, OfflineLanguageModel } from "./offline/offline-model.js";
import type { ModelPrice } from "./usage.js";

/** Which configured model answered: the alias a step named and what it maps to. */
export interface ModelIdentity {
  alias: string;
  provider: ModelProviderKind;
  modelId: string;
}

/** One configured alias, ready to call with the AI SDK (`generateText({ model: entry.model, … })`). */
export interface ModelEntry extends ModelIdentity {
  model: LanguageModelV3;
  price?: ModelPrice;
  /** Time limit of one call, from the alias's configuration. */
  timeoutMs?: number;
  /** Credentials of this alias: removed from every error message. */
  secrets: readonly string[];
}

/** What the plan loader needs: whether an alias exists (unknown aliases are rejected at load time). */
export interface ModelCatalog {
  readonly defaultAlias: string;
  has(alias: string): boolean;
  aliases(): readonly string[];
}

export class UnknownModelAliasError extends Error {
  override readonly name = "UnknownModelAliasError";
  constructor(
    readonly alias: string,
    readonly configured: readonly string[],
  ) {
    super(
      `unknown model alias "${alias}"${didYouMean(alias, configured)}; configured aliases: ${configured.join(", ") || "none"}. ` +
        `Add it under models.providers in the config file or with AAT_MODEL_${alias.toUpperCase()}_PROVIDER (docs/models.md).`,
    );
  }
}

/** Configured aliases → models. `resolve()` without an alias gives the default alias's model. */
export class ModelRegistry implements ModelCatalog {
  private readonly byAlias: ReadonlyMap<string, ModelEntry>;

  constructor(
    entries: Iterable<ModelEntry>,
    readonly defaultAlias: string,
  ) {
    const byAlias = new Map<string, ModelEntry>();
    for (const entry of entries) {
      if (byAlias.has(entry.alias)) throw new Error(`model alias "${entry.alias}" is configured twice`);
      byAlias.set(entry.alias, entry);
    }
    if (!byAlias.has(defaultAlias)) throw new UnknownModelAliasError(defaultAlias, [...byAlias.keys()]);
    this.byAlias = byAlias;
  }

  has(alias: string): boolean {
    return this.byAlias.has(alias);
  }

  aliases(): readonly string[] {
    return [...this.byAlias.keys()];
  }

  resolve(alias?: string): ModelEntry {
    const wanted = alias ?? this.defaultAlias;
    const entry = this.byAlias.get(wanted);
    if (!entry) throw new UnknownModelAliasError(wanted, this.aliases());
    return entry;
  }
}

export type ModelsConfig = AatConfig["models"];
export type RemoteModelProvider = Exclude<ModelProviderKind, "offline">;

/** Builds the AI SDK model of one alias. Provider SDKs live in adapters, so core only takes these functions. */
export type ModelProviderFactory = (alias: string, config: ModelProviderConfig) => LanguageModelV3;
export type ModelProviderFactories = Partial<Record<RemoteModelProvider, ModelProviderFactory>>;

/** One or more aliases could not be built; every problem is listed, none contains a secret. */
export class ModelConfigError extends Error {
  override readonly name = "ModelConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`model configuration is invalid:\n${problems.map((p) => `- ${p}`).join("\n")}`);
  }
}

/**
 * The registry for the `models` section of the configuration. `offline` is built here; every other
 * provider needs its factory (`@aat/adapter-models` supplies them all).
 */
export function buildModelRegistry(
  models: ModelsConfig,
  factories: ModelProviderFactories = {},
): ModelRegistry {
  const entries: ModelEntry[] = [];
  const problems: string[] = [];
  for (const [alias, config] of Object.entries(models.providers)) {
    const secrets = config.apiKey ? [config.apiKey] : [];
    let model: LanguageModelV3;
    if (config.provider === "offline") {
      model = new OfflineLanguageModel({ modelId: config.model ?? OFFLINE_MODEL_ID });
    } else {
      const factory = factories[config.provider];
      if (!factory) {
        problems.push(
          `models.providers.${alias}: provider ${config.provider} is not available in this process; build the registry with @aat/adapter-models (createModelRegistry)`,
        );
        continue;
      }
      try {
        model = factory(alias, config);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        problems.push(`models.providers.${alias} (${config.provider}): ${redactSecrets(message, secrets)}`);
        continue;
      }
    }
    const price: ModelPrice = {
      ...(config.costPerMillionInput !== undefined
        ? { costPerMillionInput: config.costPerMillionInput }
        : {}),
      ...(config.costPerMillionOutput !== undefined
        ? { costPerMillionOutput: config.costPerMillionOutput }
        : {}),
    };
    entries.push({
      alias,
      provider: config.provider,
      modelId: model.modelId,
      model,
      ...(Object.keys(price).length > 0 ? { price } : {}),
      ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
      secrets,
    });
  }
  if (!(models.default in models.providers)) {
    problems.push(
      `models.default: "${models.default}" is not a configured alias; configured: ${Object.keys(models.providers).join(", ") || "none"}`,
    );
  }
  if (problems.length > 0) throw new ModelConfigError(problems);
  return new ModelRegistry(entries, models.default);
}
