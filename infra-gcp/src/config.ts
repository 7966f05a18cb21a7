import {
  type DeployConfig,
  DeployConfigError,
  deployConfigPath,
  forTarget,
  type GcpDeploy,
  loadDeployConfig,
} from "@aat/infra-config";

export type GcpDeployConfig = DeployConfig & { gcp: GcpDeploy };

/** The deploy configuration with its `gcp` section and the checks only Google Cloud needs. */
export function loadGcpConfig(file: string = deployConfigPath()): GcpDeployConfig {
  return checkGcpConfig(forTarget(loadDeployConfig(file), "gcp", file), file);
}

/**
 * A push delivery is held for the subscription's ack deadline: a worker that may run longer would see
 * the same step pushed again while it still runs. Pub/Sub's backoff must also be an interval.
 */
export function checkGcpConfig(config: GcpDeployConfig, file: string = deployConfigPath()): GcpDeployConfig {
  const { queue } = config.gcp;
  if (config.sizes.worker.timeoutSeconds > queue.ackDeadlineSeconds) {
    throw new DeployConfigError(file, [
      {
        key: "gcp.queue.ackDeadlineSeconds",
        problem: `${queue.ackDeadlineSeconds} s is less than sizes.worker.timeoutSeconds (${config.sizes.worker.timeoutSeconds} s); Pub/Sub would push a step again while the worker still runs it (raise it, at most 600, or lower the worker timeout)`,
      },
    ]);
  }
  if (queue.minimumBackoffSeconds > queue.maximumBackoffSeconds) {
    throw new DeployConfigError(file, [
      {
        key: "gcp.queue.minimumBackoffSeconds",
        problem: `${queue.minimumBackoffSeconds} s is more than gcp.queue.maximumBackoffSeconds (${queue.maximumBackoffSeconds} s)`,
      },
    ]);
  }
  return config;
}
