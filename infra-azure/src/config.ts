import {
  type AzureDeploy,
  type DeployConfig,
  DeployConfigError,
  deployConfigPath,
  environmentProblems,
  forTarget,
  loadDeployConfig,
  MODEL_KEY_ENV,
} from "@aat/infra-config";

export type AzureDeployConfig = DeployConfig & { azure: AzureDeploy };

/** App settings the stack sets from the deploy configuration; `azure.environment` may not set them. */
export const STACK_ENV: readonly string[] = [
  "AAT_QUEUE_KIND",
  "AAT_SERVICEBUS_CONNECTION_STRING",
  "AAT_SERVICEBUS_QUEUE",
  "AAT_KV_KIND",
  "AAT_UPSTASH_URL",
  "AAT_UPSTASH_TOKEN",
  "AAT_REDIS_URL",
  "AAT_AUTH_BOOTSTRAP_ADMIN_KEY",
  "AAT_SERVER_CORS_ORIGINS",
  ...Object.values(MODEL_KEY_ENV),
];

/** The deploy configuration with its `azure` section and the checks only Azure needs. */
export function loadAzureConfig(file: string = deployConfigPath()): AzureDeployConfig {
  return checkAzureConfig(forTarget(loadDeployConfig(file), "azure", file), file);
}

/**
 * What the schema cannot see: `azure.environment` naming a setting the stack owns or a secret value, and
 * Premium caches, which come in capacity 1–5 only (P1–P5).
 */
export function checkAzureConfig(
  config: AzureDeployConfig,
  file: string = deployConfigPath(),
): AzureDeployConfig {
  const { kv, environment } = config.azure;
  const refused = environmentProblems("azure", environment, STACK_ENV);
  if (refused.length > 0) throw new DeployConfigError(file, refused);
  if (kv.kind === "azure-redis" && kv.sku === "Premium" && (kv.capacity < 1 || kv.capacity > 5)) {
    throw new DeployConfigError(file, [
      {
        key: "azure.kv.capacity",
        problem: `Premium caches come in capacity 1 to 5 (P1–P5), not ${kv.capacity}`,
      },
    ]);
  }
  return config;
}
