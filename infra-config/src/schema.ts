import { z } from "zod";

/**
 * The deploy configuration every IaC app reads (infra-aws, infra-gcp, infra-azure, infra-onprem).
 * Common keys sit at the top; each target has its own section whose `queue.kind` and `kv.kind` list
 * only what that target can run, so a wrong pairing fails at synth with the key that is wrong.
 */

const resourceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/,
    "use 3–20 lower-case letters, digits and hyphens, starting with a letter (it prefixes every cloud resource name)",
  );

const secretName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/,
    "use letters, digits, _ . / - (a secret's name, never its value)",
  );

const functionSize = z
  .object({
    /** Memory per instance in MB. */
    memoryMb: z.number().int().min(128).max(10240).default(1024),
    /** Longest a single invocation may run. */
    timeoutSeconds: z.number().int().min(3).max(900).default(60),
    /** Upper bound on instances (scale-out limit; protects downstream services and cost). */
    maxInstances: z.number().int().min(1).max(1000).default(10),
    /** Requests one instance serves at once where the platform supports it (Cloud Run, Knative). */
    concurrency: z.number().int().min(1).max(1000).default(40),
  })
  .strict();

const sizes = z
  .object({
    api: functionSize.default({ memoryMb: 1024, timeoutSeconds: 30, maxInstances: 10, concurrency: 80 }),
    worker: functionSize.default({ memoryMb: 1024, timeoutSeconds: 300, maxInstances: 10, concurrency: 10 }),
  })
  .strict();

/**
 * More environment variables for the functions (aws, gcp, azure): plain settings such as AAT_MODELS_JSON or
 * AAT_AUTH_MODE (docs/configuration.md). Never secret values: those go in modelSecrets/webhookSecrets.
 */
const functionEnvironment = z
  .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string(), {
    error: (issue) =>
      issue.code === "invalid_key"
        ? "not an environment variable name: use upper-case letters, digits and _, starting with a letter"
        : undefined,
  })
  .default({});

const upstashKv = z
  .object({
    kind: z.literal("upstash"),
    /** Secret holding `{"url": "...", "token": "..."}` of the Upstash REST endpoint. */
    secret: secretName,
  })
  .strict();

const aws = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as eu-west-1"),
    /** Optional account id; when unset CDK uses the deploying credentials' account. */
    account: z
      .string()
      .regex(/^\d{12}$/, "a 12-digit AWS account id")
      .optional(),
    queue: z
      .object({
        kind: z.literal("sqs").default("sqs"),
        fifo: z.boolean().default(false),
        /** Records per worker invocation (SQS event source mapping). */
        batchSize: z.number().int().min(1).max(10).default(10),
        /** Most worker invocations the event source runs at once (SQS: 2–1000). */
        maxConcurrency: z.number().int().min(2).max(1000).default(10),
        /** Deliveries before a message moves to the dead-letter queue. */
        maxReceiveCount: z.number().int().min(1).max(1000).default(5),
        visibilityTimeoutSeconds: z.number().int().min(30).max(43200).default(360),
      })
      .strict()
      .default({
        kind: "sqs",
        fifo: false,
        batchSize: 10,
        maxConcurrency: 10,
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: 360,
      }),
    kv: z
      .discriminatedUnion("kind", [z.object({ kind: z.literal("dynamodb") }).strict(), upstashKv])
      .default({ kind: "dynamodb" }),
    /** Also expose the http Lambda through a Function URL (besides the HTTP API). */
    functionUrl: z.boolean().default(false),
    logRetentionDays: z
      .union([z.literal(1), z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(365)])
      .default(30),
    /** ACM certificate ARN (us-east-1 for CloudFront) when `domain` is set. */
    certificateArn: z.string().startsWith("arn:aws:acm:", "an ACM certificate ARN").optional(),
    environment: functionEnvironment,
  })
  .strict();

const gcp = z
  .object({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "a Google Cloud project id"),
    region: z.string().regex(/^[a-z]+-[a-z]+\d$/, "a Google Cloud region such as europe-west1"),
    queue: z
      .object({
        kind: z.literal("pubsub").default("pubsub"),
        /** Deliveries before a message goes to the dead-letter topic (Pub/Sub: 5–100). */
        maxDeliveryAttempts: z.number().int().min(5).max(100).default(5),
        ackDeadlineSeconds: z.number().int().min(10).max(600).default(300),
        minimumBackoffSeconds: z.number().int().min(0).max(600).default(10),
        maximumBackoffSeconds: z.number().int().min(0).max(600).default(600),
      })
      .strict()
      .default({
        kind: "pubsub",
        maxDeliveryAttempts: 5,
        ackDeadlineSeconds: 300,
        minimumBackoffSeconds: 10,
        maximumBackoffSeconds: 600,
      }),
    kv: z
      .discriminatedUnion("kind", [
        z
          .object({
            kind: z.literal("memorystore"),
            memorySizeGb: z.number().int().min(1).max(300).default(1),
            /** Serverless VPC Access connector CIDR (/28) the functions reach Memorystore through. */
            connectorCidr: z
              .string()
              .regex(/^\d{1,3}(\.\d{1,3}){3}\/28$/, "a /28 CIDR range such as 10.8.0.0/28")
              .default("10.8.0.0/28"),
          })
          .strict(),
        upstashKv,
      ])
      .default({ kind: "upstash", secret: "aat-upstash" }),
    environment: functionEnvironment,
  })
  .strict();

const azure = z
  .object({
    location: z.string().regex(/^[a-z]+[a-z0-9]*$/, "an Azure location such as westeurope"),
    /** Resource group to create (default: `<name>-<environment>-rg`). */
    resourceGroup: z.string().min(1).max(90).optional(),
    queue: z
      .object({
        kind: z.literal("servicebus").default("servicebus"),
        /** Deliveries before Service Bus dead-letters a message. */
        maxDeliveryCount: z.number().int().min(1).max(2000).default(5),
        lockDurationSeconds: z.number().int().min(5).max(300).default(300),
        duplicateDetectionMinutes: z.number().int().min(1).max(10080).default(10),
      })
      .strict()
      .default({
        kind: "servicebus",
        maxDeliveryCount: 5,
        lockDurationSeconds: 300,
        duplicateDetectionMinutes: 10,
      }),
    kv: z
      .discriminatedUnion("kind", [
        z
          .object({
            kind: z.literal("azure-redis"),
            sku: z.enum(["Basic", "Standard", "Premium"]).default("Standard"),
            capacity: z.number().int().min(0).max(6).default(1),
          })
          .strict(),
        upstashKv,
      ])
      .default({ kind: "azure-redis", sku: "Standard", capacity: 1 }),
    environment: functionEnvironment,
  })
  .strict();

const onprem = z
  .object({
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a Kubernetes namespace name")
      .default("aat"),
    /** Container image of functions/node (built from infra-onprem/Dockerfile). */
    image: z.string().min(1).default("ghcr.io/example/aat:latest"),
    queue: z
      .discriminatedUnion("kind", [
        z
          .object({
            kind: z.literal("nats"),
            /** Use an existing NATS; when unset the bundle runs its own JetStream StatefulSet. */
            url: z.string().startsWith("nats://", "a nats:// URL").optional(),
          })
          .strict(),
        z
          .object({ kind: z.literal("rabbitmq"), url: z.string().regex(/^amqps?:\/\//, "an amqp:// URL") })
          .strict(),
      ])
      .default({ kind: "nats" }),
    kv: z
      .object({
        kind: z.literal("redis").default("redis"),
        /** Use an existing Redis; when unset the bundle runs its own StatefulSet. */
        url: z
          .string()
          .regex(/^rediss?:\/\//, "a redis:// URL")
          .optional(),
      })
      .strict()
      .default({ kind: "redis" }),
    /** How step messages reach the worker: Knative Eventing pushes CloudEvents, or KEDA scales a pull worker. */
    workerFeed: z.enum(["eventing", "keda"]).default("keda"),
    /** Host name the ingress serves the API, webhooks and the site on. */
    ingressHost: z.string().min(1).default("aat.example.internal"),
  })
  .strict();

export const deployConfigSchema = z
  .object({
    /** Prefix of every resource name. */
    name: resourceName,
    environment: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,15}$/, "a short lower-case slug such as dev, staging or prod"),
    /** Names of the secrets holding model provider keys, by provider (values are set outside IaC). */
    modelSecrets: z
      .partialRecord(z.enum(["openai", "anthropic", "google", "azure-openai", "bedrock"]), secretName)
      .default({}),
    /** Names of secrets holding webhook source secrets (alerts), created empty for operators to fill. */
    webhookSecrets: z.array(secretName).default([]),
    sizes: sizes.default({
      api: { memoryMb: 1024, timeoutSeconds: 30, maxInstances: 10, concurrency: 80 },
      worker: { memoryMb: 1024, timeoutSeconds: 300, maxInstances: 10, concurrency: 10 },
    }),
    /** Custom domain for the API and site, e.g. aat.example.com. */
    domain: z
      .string()
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, "a DNS name such as aat.example.com")
      .optional(),
    /** Deploy the static site (S3+CloudFront, GCS, Static Web Apps, or served by the api on-prem). */
    site: z.boolean().default(true),
    aws: aws.optional(),
    gcp: gcp.optional(),
    azure: azure.optional(),
    onprem: onprem.optional(),
  })
  .strict();

export type DeployConfig = z.infer<typeof deployConfigSchema>;
export type DeployTarget = "aws" | "gcp" | "azure" | "onprem";
export type AwsDeploy = z.infer<typeof aws>;
export type GcpDeploy = z.infer<typeof gcp>;
export type AzureDeploy = z.infer<typeof azure>;
export type OnpremDeploy = z.infer<typeof onprem>;
export type FunctionSize = z.infer<typeof functionSize>;
