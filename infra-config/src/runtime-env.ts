import type { DeployConfig } from "./schema.js";

export type ModelSecretProvider = keyof DeployConfig["modelSecrets"];

/**
 * The environment variable a model provider's key reaches the deployed functions as: the variable
 * adapters/models reads when no model alias sets its own apiKey (OPENAI_API_KEY, …). Every IaC app maps
 * `modelSecrets` through this one table so the clouds agree.
 */
export const MODEL_KEY_ENV = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  google: "GOOGLE_VERTEX_API_KEY",
  "azure-openai": "AZURE_API_KEY",
  bedrock: "AWS_BEARER_TOKEN_BEDROCK",
} as const satisfies Record<ModelSecretProvider, string>;

/**
 * The variable a webhook secret reaches the functions as: core's EnvSecrets reads `AAT_SECRET_<NAME>`
 * (upper-cased, every other character `_`), the same rule as core's secretEnvName.
 */
export function webhookSecretEnv(name: string): string {
  return `AAT_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
