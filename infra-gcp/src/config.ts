import {
  type DeployConfig,
  DeployConfigError,
  deployConfigPath,
  environmentProblems,
  forTarget,
  type GcpDeploy,
  loadDeployConfig,
  MODEL_KEY_ENV,
} from "@aat/infra-config";

export type GcpDeployConfig = DeployConfig & { gcp: GcpDeploy };

/** Variables the stack sets from the deploy configuration; `gcp.environment` may not set them. */
export const STACK_ENV: readonly string[] = [
  "AAT_QUEUE_KIND",
  "AAT_PUBSUB_PROJECT_ID",
  "AAT_PUBSUB_TOPIC",
  "AAT_PUBSUB_SUBSCRIPTION",
  "AAT_PUBSUB_PROVISION",
  "AAT_KV_KIND",
  "AAT_UPSTASH_URL",
  "AAT_UPSTASH_TOKEN",
  "AAT_REDIS_URL",
  "AAT_AUTH_BOOTSTRAP_ADMIN_KEY",
  "AAT_SERVER_CORS_ORIGINS",
  ...Object.values(MODEL_KEY_ENV),
];

/** The deploy configuration with its `gcp` section and the checks only Google Cloud needs. */
export function loadGcpConfig(file: string = deployConfigPath()): GcpDeployConfig {
  return checkGcpConfig(forTarget(loadDeployConfig(file), "gcp", file), file);
}

/**
 * A push delivery is held for the subscription's ack deadline: a worker that may run longer would see
 * the same step pushed again while it still runs. Pub/Sub's backoff must also be an interval.
 */
export function checkGcpConfig(config: GcpDeployConfig, file: string = deployConfigPath()): GcpDeployConfig {
  const { queue, environment } = config.gcp;
  const refused = environmentProblems("gcp", environment, STACK_ENV);
  if (refused.length > 0) throw new DeployConfigError(file, refused);
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
