import { buildModelRegistry, type ModelRegistry, type ModelsConfig } from "@aat/core";
import { aiSdkProviderFactories, type ModelProviderOptions } from "./providers.js";

/**
 * The model registry for the `models` section of the configuration, with every provider available:
 * `createModelRegistry(config.models)`; then `new LanguageModelAgent(registry)` is the agent step's model.
 */
export function createModelRegistry(models: ModelsConfig, options: ModelProviderOptions = {}): ModelRegistry {
  return buildModelRegistry(models, aiSdkProviderFactories(options));
}
