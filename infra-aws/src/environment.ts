import type { AwsDeployConfig } from "./config.js";

/** Provider SDK variables the model adapters fall back to when an alias has no apiKey (adapters/models). */
export const MODEL_KEY_ENV: Record<string, string> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  "azure-openai": "AZURE_API_KEY",
  google: "GOOGLE_VERTEX_API_KEY",
  bedrock: "AWS_BEARER_TOKEN_BEDROCK",
};

/**
 * `AAT_SECRET_<NAME>`, where core's default Secrets port reads a named secret (core/src/secrets/secrets.ts
 * `secretEnvName`; repeated here so the CDK app does not load core, and a test holds the two equal).
 */
export function secretEnvName(name: string): string {
  return `AAT_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

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
    // The bundles ship external source maps: stack traces in CloudWatch point at the TypeScript sources.
    NODE_OPTIONS: "--enable-source-maps",
    AAT_QUEUE_KIND: "sqs",
    AAT_SQS_QUEUE_URL: refs.queueUrl,
    AAT_SQS_FIFO: String(config.aws.queue.fifo),
    AAT_SQS_REGION: config.aws.region,
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
    const variable = MODEL_KEY_ENV[provider];
    const value = secret === undefined ? undefined : refs.modelKeys[secret];
    if (variable && value !== undefined) env[variable] = value;
  }
  for (const name of config.webhookSecrets) {
    const value = refs.webhookSecrets[name];
    if (value !== undefined) env[secretEnvName(name)] = value;
  }
  // The serverless runtime generates no first key (docs/auth.md): without this the API has no caller.
  env.AAT_AUTH_BOOTSTRAP_ADMIN_KEY = refs.bootstrapAdminKey;
  if (refs.corsOrigins.length > 0) env.AAT_SERVER_CORS_ORIGINS = refs.corsOrigins.join(",");
  return env;
}
