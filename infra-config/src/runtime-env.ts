import type { DeployConfigProblem } from "./load.js";
import type { DeployConfig, DeployTarget } from "./schema.js";

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

/**
 * What is wrong with a target's `environment` (plain settings for the functions): a variable the stack
 * sets itself from the deploy configuration (`stackEnv`: the functions would not start as configured),
 * or a secret value, which belongs in a secret store. One rule for every IaC app.
 */
export function environmentProblems(
  target: Exclude<DeployTarget, "onprem">,
  environment: Record<string, string>,
  stackEnv: readonly string[],
): DeployConfigProblem[] {
  return Object.keys(environment).flatMap((name) => {
    const key = `${target}.environment.${name}`;
    if (stackEnv.includes(name))
      return [
        {
          key,
          problem: "set by the stack from the deploy configuration; change the key that drives it instead",
        },
      ];
    if (name.startsWith("AAT_SECRET_"))
      return [
        {
          key,
          problem:
            "a secret value does not belong in the deploy configuration; list the secret's name in webhookSecrets",
        },
      ];
    return [];
  });
}
