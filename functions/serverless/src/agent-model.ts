import { type AgentModel, LanguageModelAgent, type ModelRegistry } from "@aat/core/models";

/**
 * The agent steps' model over the AI SDK. Its own module so the runtime can load it with `await import()`
 * (a bundle keeps the AI SDK in a chunk read when the first agent step asks the model).
 */
export function createAgentModel(models: ModelRegistry): AgentModel {
  return new LanguageModelAgent(models);
}
