import {
  type AzureDeploy,
  type DeployConfig,
  DeployConfigError,
  deployConfigPath,
  forTarget,
  loadDeployConfig,
} from "@aat/infra-config";

export type AzureDeployConfig = DeployConfig & { azure: AzureDeploy };

/** The deploy configuration with its `azure` section and the checks only Azure needs. */
export function loadAzureConfig(file: string = deployConfigPath()): AzureDeployConfig {
  return checkAzureConfig(forTarget(loadDeployConfig(file), "azure", file), file);
}

/** Pairings the schema cannot see: Premium caches come in capacity 1–5 only (P1–P5). */
export function checkAzureConfig(
  config: AzureDeployConfig,
  file: string = deployConfigPath(),
): AzureDeployConfig {
  const { kv } = config.azure;
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
