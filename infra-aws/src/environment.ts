import { MODEL_KEY_ENV, webhookSecretEnv } from "@aat/infra-config";
import type { AwsDeployConfig } from "./config.js";

/** Variables the stack sets itself; `aws.environment` may not set them (the functions would not start). */
export const STACK_ENV = [
  "AAT_QUEUE_KIND",
  "AAT_SQS_QUEUE_URL",
  "AAT_SQS_FIFO",
  "AAT_SQS_REGION",
  "AAT_SQS_PROVISION",
  "AAT_KV_KIND",
  "AAT_DYNAMODB_TABLE",
  "AAT_DYNAMODB_REGION",
  "AAT_UPSTASH_URL",
  "AAT_UPSTASH_TOKEN",
  "AAT_AUTH_BOOTSTRAP_ADMIN_KEY",
  "AAT_SERVER_CORS_ORIGINS",
  ...Object.values(MODEL_KEY_ENV),
] as const;

/** Values only known at deploy time (tokens), passed in by the stack. */
export interface EnvironmentRefs {
  queueUrl: string;
  tableName?: string;
  /** Dynamic references (`{{resolve:secretsmanager:…}}`) to the Upstash secret's `url` and `token` fields. */
  upstash?: { url: string; token: string };
  /** Secret name -> dynamic reference to its value. */
  modelKeys: Record<string, string>;
  webhookSecrets: Record<string, string>;
  /** Origins of the site, allowed to call the API from a browser. */
  corsOrigins: string[];
  /** The first admin API key, `aat_<id>_<secret>` (the secret part a dynamic reference). */
  bootstrapAdminKey: string;
}

/**
 * The environment every Lambda of the stack starts with: the runtime reads it once per container through
 * core's config loader (docs/configuration.md). Without these the functions would refuse to start (the
 * Lambda runtime accepts only sqs queues and dynamodb/upstash KV).
 */
export function functionEnvironment(config: AwsDeployConfig, refs: EnvironmentRefs): Record<string, string> {
  const env: Record<string, string> = {
    // Operator settings first (checked by checkAwsConfig never to name the stack's own variables).
    ...config.aws.environment,
    // No NODE_OPTIONS=--enable-source-maps: it would turn the shipped code cache off (and read every
    // source map at each cold start); the handlers map the stacks they log themselves.
    AAT_QUEUE_KIND: "sqs",
    AAT_SQS_QUEUE_URL: refs.queueUrl,
    AAT_SQS_FIFO: String(config.aws.queue.fifo),
    AAT_SQS_REGION: config.aws.region,
    // The stack owns the queue and its dead-letter queue: the runtime opens them as they are (one
    // GetQueueAttributes per cold start) and may not create queues.
    AAT_SQS_PROVISION: "false",
  };
  if (config.aws.kv.kind === "dynamodb") {
    if (!refs.tableName) throw new Error("functionEnvironment: kv dynamodb needs the table name");
    env.AAT_KV_KIND = "dynamodb";
    env.AAT_DYNAMODB_TABLE = refs.tableName;
    env.AAT_DYNAMODB_REGION = config.aws.region;
  } else {
    if (!refs.upstash) throw new Error("functionEnvironment: kv upstash needs the secret references");
    env.AAT_KV_KIND = "upstash";
    env.AAT_UPSTASH_URL = refs.upstash.url;
    env.AAT_UPSTASH_TOKEN = refs.upstash.token;
  }
  for (const [provider, secret] of Object.entries(config.modelSecrets)) {
    const variable = MODEL_KEY_ENV[provider as keyof typeof MODEL_KEY_ENV];
    const value = secret === undefined ? undefined : refs.modelKeys[secret];
    if (variable && value !== undefined) env[variable] = value;
  }
  for (const name of config.webhookSecrets) {
    const value = refs.webhookSecrets[name];
    if (value !== undefined) env[webhookSecretEnv(name)] = value;
  }
  // The serverless runtime generates no first key (docs/auth.md): without this the API has no caller.
  env.AAT_AUTH_BOOTSTRAP_ADMIN_KEY = refs.bootstrapAdminKey;
  if (refs.corsOrigins.length > 0) env.AAT_SERVER_CORS_ORIGINS = refs.corsOrigins.join(",");
  return env;
}
