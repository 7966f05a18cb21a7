import * as z from "zod/mini";
import { actionsSection } from "./actions.js";
import { alertsSection } from "./alerts.js";
import { analyticsSection } from "./analytics.js";
import { chatSection } from "./chat.js";
import { checkCrossSettings } from "./checks.js";
import { codingSection } from "./coding.js";
import { mcpSection } from "./mcp.js";
import { httpUrl, MAP_KEY_FORM, mapKeyName, nonNegativeInt, positiveInt, setting, text } from "./meta.js";
import { configSection } from "./section.js";
import { threatIntelSection } from "./threatintel.js";

/**
 * All configuration of the product. Every leaf carries SettingMeta (env var, description, secret flag);
 * docs/configuration.md is generated from it, so a setting added here is documented by `npm run docs:config`.
 * Defaults are chosen so `npm start` needs no configuration at all.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

const server = configSection("server", () =>
  z.strictObject({
    host: setting(z._default(text(), "127.0.0.1"), {
      env: "AAT_SERVER_HOST",
      description: "Interface the HTTP server listens on. Use 0.0.0.0 in a container.",
    }),
    port: setting(z._default(nonNegativeInt().check(z.maximum(65_535)), 8080), {
      env: "AAT_SERVER_PORT",
      envAliases: ["PORT"],
      description:
        "TCP port of the HTTP server; 0 picks a free port. PORT (set by Cloud Run and Knative) is read when AAT_SERVER_PORT is unset.",
    }),
    publicUrl: setting(z.optional(httpUrl()), {
      env: "AAT_SERVER_PUBLIC_URL",
      description: "The URL users and webhooks reach this server at, used in links and callback URLs.",
      example: "https://aat.example.com",
    }),
    bodyLimitBytes: setting(z._default(positiveInt(), MIB), {
      env: "AAT_SERVER_BODY_LIMIT_BYTES",
      description: "Largest request body accepted; larger requests get 413.",
    }),
    role: setting(z._default(z.enum(["api", "worker", "all"]), "all"), {
      env: "AAT_SERVER_ROLE",
      description: "What this process runs: the HTTP API, the queue worker, or both.",
    }),
    corsOrigins: setting(z._default(z.array(text()), []), {
      env: "AAT_SERVER_CORS_ORIGINS",
      description:
        "Origins allowed to call the API from a browser (CORS), e.g. the static site's host when it is served from another origin. Empty: no CORS headers (same origin only).",
      expected: "a list of origins like https://app.example.com (env: comma-separated)",
      example: "https://app.example.com",
    }),
    shutdownGraceMs: setting(z._default(nonNegativeInt(), 10_000), {
      env: "AAT_SERVER_SHUTDOWN_GRACE_MS",
      description: "On SIGTERM, how long in-flight requests and steps may finish before the process exits.",
    }),
    cloudEventsToken: setting(z.optional(z.string().check(z.minLength(16))), {
      env: "AAT_SERVER_CLOUDEVENTS_TOKEN",
      description:
        "Shared bearer token of POST /v1/cloudevents/steps (Knative Eventing push): step messages are accepted only with `Authorization: Bearer <token>` (add the header where the events are sent from, e.g. a proxy or a custom sender). At least 16 characters.",
      secret: true,
    }),
    cloudEventsClusterLocal: setting(z.optional(z.boolean()), {
      env: "AAT_SERVER_CLOUDEVENTS_CLUSTER_LOCAL",
      description:
        "Declares that the Knative Service is reachable only inside the cluster (label networking.knative.dev/visibility: cluster-local), so POST /v1/cloudevents/steps may accept step messages without a token. Without it and without server.cloudEventsToken, the route answers 401.",
    }),
  }),
);

const queueKinds = ["memory", "sqlite", "nats", "rabbitmq", "sqs", "pubsub", "servicebus"] as const;

const nats = configSection("queue.nats", () =>
  z.strictObject({
    servers: setting(z.optional(z.array(text()).check(z.minLength(1))), {
      env: "AAT_NATS_SERVERS",
      envAliases: ["NATS_URL"],
      description: "NATS servers, as in NATS_URL (read when AAT_NATS_SERVERS is unset).",
      expected: "a list of NATS server URLs (env: comma-separated)",
      example: "nats://127.0.0.1:4222",
      requiredWhen: { key: "queue.kind", is: "nats" },
    }),
    user: setting(z.optional(text()), { env: "AAT_NATS_USER", description: "User name for NATS." }),
    pass: setting(z.optional(text()), {
      env: "AAT_NATS_PASS",
      description: "Password for NATS.",
      secret: true,
    }),
    token: setting(z.optional(text()), {
      env: "AAT_NATS_TOKEN",
      description: "Token for NATS token authentication.",
      secret: true,
    }),
    credsFile: setting(z.optional(text()), {
      env: "AAT_NATS_CREDS_FILE",
      description: "Path of a NATS .creds file (JWT + NKey seed).",
      path: true,
    }),
    tls: setting(z._default(z.boolean(), false), {
      env: "AAT_NATS_TLS",
      description: "Require TLS to the servers.",
    }),
    stream: setting(z._default(z.string().check(z.regex(/^[A-Za-z0-9_-]+$/)), "AAT"), {
      env: "AAT_NATS_STREAM",
      description: "JetStream stream holding step messages; created when missing.",
      expected: "letters, digits, _ or -",
    }),
    subjectPrefix: setting(
      z._default(z.string().check(z.regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)), "aat"),
      {
        env: "AAT_NATS_SUBJECT_PREFIX",
        description:
          "Step messages are published on `<prefix>.steps` (delayed ones on `<prefix>.steps.delayed`, dead letters on `<prefix>.steps.dead-letters`); installations sharing a NATS server need their own prefix and stream.",
        expected: "dot-separated tokens of letters, digits, _ or -",
      },
    ),
    ackWaitMs: setting(z._default(positiveInt(), 30_000), {
      env: "AAT_NATS_ACK_WAIT_MS",
      description: "How long a delivered message may stay unacknowledged before JetStream redelivers it.",
    }),
    maxDeliver: setting(z._default(positiveInt(), 5), {
      env: "AAT_NATS_MAX_DELIVER",
      description: "Deliveries of one message before it is given up (dead-lettered).",
    }),
    duplicateWindowMs: setting(z._default(positiveInt(), 120_000), {
      env: "AAT_NATS_DUPLICATE_WINDOW_MS",
      description: "JetStream de-duplication window for messages with the same id.",
    }),
  }),
);

const rabbitmq = configSection("queue.rabbitmq", () =>
  z.strictObject({
    url: setting(z.optional(z.url({ protocol: /^amqps?$/ })), {
      env: "AAT_RABBITMQ_URL",
      description: "AMQP URL including credentials.",
      secret: true,
      expected: "an amqp:// or amqps:// URL",
      example: "amqp://user:password@127.0.0.1:5672",
      requiredWhen: { key: "queue.kind", is: "rabbitmq" },
    }),
    queue: setting(z._default(text(), "aat-steps"), {
      env: "AAT_RABBITMQ_QUEUE",
      description: "Queue name.",
    }),
    prefetch: setting(z._default(positiveInt(), 16), {
      env: "AAT_RABBITMQ_PREFETCH",
      description:
        "Unused by the RabbitMQ adapter, which takes messages one by one with basic.get (limits.maxConcurrentSteps bounds what a worker holds); kept so existing configurations stay valid.",
    }),
    visibilityTimeoutMs: setting(z._default(positiveInt(), 30_000), {
      env: "AAT_RABBITMQ_VISIBILITY_TIMEOUT_MS",
      description:
        "How long a received message stays leased before it is delivered again (workers renew the lease while a step runs).",
    }),
    maxDeliveries: setting(z._default(positiveInt(), 5), {
      env: "AAT_RABBITMQ_MAX_DELIVERIES",
      description: "Deliveries of one message before it is dead-lettered (to `<queue>.dead`).",
    }),
  }),
);

/** How an AWS adapter talks to its service: the JSON API over HTTPS (no SDK loaded) or the AWS SDK. */
const AWS_TRANSPORTS = ["auto", "rest", "sdk"] as const;
const awsTransport = (env: string, service: string) =>
  setting(z._default(z.enum(AWS_TRANSPORTS), "auto"), {
    env,
    description: `How ${service} is called: rest (its JSON API over HTTPS with SigV4; a cold start loads no AWS SDK), sdk (the AWS SDK: its credential chain of instance and container roles, profiles and SSO), or auto (rest when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and a region are set, as on Lambda; sdk otherwise).`,
  });

const sqs = configSection("queue.sqs", () =>
  z.strictObject({
    queueUrl: setting(z.optional(httpUrl()), {
      env: "AAT_SQS_QUEUE_URL",
      description: "URL of the SQS queue.",
      example: "https://sqs.eu-west-1.amazonaws.com/123456789012/aat-steps",
      requiredWhen: { key: "queue.kind", is: "sqs" },
    }),
    region: setting(z.optional(text()), {
      env: "AAT_SQS_REGION",
      description: "AWS region; when unset the AWS SDK's own chain (AWS_REGION, profile) decides.",
    }),
    fifo: setting(z._default(z.boolean(), false), {
      env: "AAT_SQS_FIFO",
      description: "The queue is a FIFO queue (message group and de-duplication ids are sent).",
    }),
    endpoint: setting(z.optional(httpUrl()), {
      env: "AAT_SQS_ENDPOINT",
      description: "Endpoint override, e.g. a local moto_server.",
      example: "http://127.0.0.1:5000",
    }),
    transport: awsTransport("AAT_SQS_TRANSPORT", "SQS"),
    visibilityTimeoutMs: setting(
      // SQS counts whole seconds, up to 12 hours. Unset: the adapter's 30 s (the defaults stay as they were).
      z.optional(positiveInt().check(z.minimum(1_000), z.maximum(43_200_000))),
      {
        env: "AAT_SQS_VISIBILITY_TIMEOUT_MS",
        description:
          "How long a received message stays hidden before SQS delivers it again, in ms (default 30000; set on the queue when aat creates it; workers extend it while a step runs). On Lambda, keep it at least the worker function's timeout.",
      },
    ),
    claimCheckBucket: setting(z.optional(text()), {
      env: "AAT_SQS_CLAIM_CHECK_BUCKET",
      description:
        "S3 bucket for step messages over SQS's 256 KiB: the body goes there and the message carries a reference (claim check). Unset: such messages are refused with an error. Give the bucket a lifecycle rule that expires objects after the queue's retention.",
      example: "aat-claims-123456789012",
    }),
    claimCheckPrefix: setting(z.optional(text()), {
      env: "AAT_SQS_CLAIM_CHECK_PREFIX",
      description: 'Key prefix of claim-check objects in the bucket (default "aat-claims/<queue name>/").',
    }),
    provision: setting(z._default(z.boolean(), true), {
      env: "AAT_SQS_PROVISION",
      description:
        "Create the queue and its dead-letter queue when missing, at start. Set false when a deployment owns them (infra-aws does): the queue is then opened as it is with one GetQueueAttributes (its visibility timeout, redrive policy and dead-letter queue), which shortens a cold start, and the runtime needs no permission to create queues.",
    }),
  }),
);

const pubsub = configSection("queue.pubsub", () =>
  z.strictObject({
    projectId: setting(z.optional(z.string().check(z.minLength(6))), {
      env: "AAT_PUBSUB_PROJECT_ID",
      envAliases: ["GOOGLE_CLOUD_PROJECT"],
      description:
        "Google Cloud project id (GOOGLE_CLOUD_PROJECT is read when AAT_PUBSUB_PROJECT_ID is unset).",
      requiredWhen: { key: "queue.kind", is: "pubsub" },
    }),
    topic: setting(z._default(z.string().check(z.minLength(3)), "aat-steps"), {
      env: "AAT_PUBSUB_TOPIC",
      description: "Topic step messages are published to.",
    }),
    subscription: setting(z._default(z.string().check(z.minLength(3)), "aat-steps-worker"), {
      env: "AAT_PUBSUB_SUBSCRIPTION",
      description: "Subscription the worker pulls from.",
    }),
    provision: setting(z._default(z.boolean(), true), {
      env: "AAT_PUBSUB_PROVISION",
      description:
        "Create the topic, its dead-letter topic and their subscriptions when missing, at start. Set false when a deployment owns them (infra-gcp does): the runtime then needs no permission to create topics or subscriptions.",
    }),
    emulatorHost: setting(z.optional(z.string().check(z.regex(/^[^\s:/]+:\d{1,5}$/))), {
      env: "AAT_PUBSUB_EMULATOR_HOST",
      envAliases: ["PUBSUB_EMULATOR_HOST"],
      description: "host:port of the Pub/Sub emulator; when set no Google credentials are used.",
      expected: "host:port",
      example: "127.0.0.1:8085",
    }),
  }),
);

const servicebus = configSection("queue.servicebus", () =>
  z.strictObject({
    connectionString: setting(z.optional(text()), {
      env: "AAT_SERVICEBUS_CONNECTION_STRING",
      description: "Azure Service Bus connection string.",
      secret: true,
      requiredWhen: { key: "queue.kind", is: "servicebus" },
    }),
    queue: setting(z._default(text(), "aat-steps"), {
      env: "AAT_SERVICEBUS_QUEUE",
      description: "Queue name.",
    }),
  }),
);

const queue = configSection("queue", () =>
  z.strictObject({
    kind: setting(z._default(z.enum(queueKinds), "sqlite"), {
      env: "AAT_QUEUE_KIND",
      description:
        "Which queue carries step messages. memory and sqlite are in-process (sqlite survives restarts); the others are shared by many replicas.",
    }),
    nats,
    rabbitmq,
    sqs,
    pubsub,
    servicebus,
  }),
);

const kvKinds = ["memory", "sqlite", "redis", "upstash", "dynamodb"] as const;

const kv = configSection("kv", () =>
  z.strictObject({
    kind: setting(z._default(z.enum(kvKinds), "sqlite"), {
      env: "AAT_KV_KIND",
      description: "Where run state, dedupe claims and plan versions are stored.",
    }),
    redis: configSection("kv.redis", () =>
      z.strictObject({
        url: setting(z.optional(z.url({ protocol: /^rediss?$/ })), {
          env: "AAT_REDIS_URL",
          envAliases: ["REDIS_URL"],
          description:
            "Redis URL including credentials; rediss:// uses TLS. REDIS_URL is read when AAT_REDIS_URL is unset.",
          secret: true,
          expected: "a redis:// or rediss:// URL",
          example: "redis://127.0.0.1:6379/0",
          requiredWhen: { key: "kv.kind", is: "redis" },
        }),
        keyPrefix: setting(z._default(z.string().check(z.regex(/^[^{}]+$/)), "aat"), {
          env: "AAT_REDIS_KEY_PREFIX",
          description:
            "Namespace of every key, so several installations can share one Redis; keys are `{<prefix>}:…`, the braces making it the Redis Cluster hash tag.",
          expected: "a non-empty string without { or }",
        }),
        tls: setting(z._default(z.boolean(), false), {
          env: "AAT_REDIS_TLS",
          description: "Use TLS even when the URL is redis://.",
        }),
        commandTimeoutMs: setting(z._default(positiveInt(), 5_000), {
          env: "AAT_REDIS_COMMAND_TIMEOUT_MS",
          description:
            "How long one Redis command may wait for its reply before it fails (a silent connection, an overloaded server).",
        }),
        connectTimeoutMs: setting(z._default(positiveInt(), 5_000), {
          env: "AAT_REDIS_CONNECT_TIMEOUT_MS",
          description: "How long one attempt to connect to Redis may take.",
        }),
        maxRetriesPerRequest: setting(z._default(z.number().check(z.int(), z.nonnegative()), 3), {
          env: "AAT_REDIS_MAX_RETRIES_PER_REQUEST",
          description:
            "Reconnect attempts a command waits through before it fails while Redis is unreachable (0: fail at once). Low, so /readyz answers 503 and workers back off within a second of an outage instead of hanging.",
          expected: "an integer >= 0",
        }),
      }),
    ),
    upstash: configSection("kv.upstash", () =>
      z.strictObject({
        url: setting(z.optional(httpUrl()), {
          env: "AAT_UPSTASH_URL",
          envAliases: ["UPSTASH_REDIS_REST_URL"],
          description:
            "Upstash Redis REST URL (UPSTASH_REDIS_REST_URL is read when AAT_UPSTASH_URL is unset).",
          example: "https://eu1-example-12345.upstash.io",
          requiredWhen: { key: "kv.kind", is: "upstash" },
        }),
        token: setting(z.optional(text()), {
          env: "AAT_UPSTASH_TOKEN",
          envAliases: ["UPSTASH_REDIS_REST_TOKEN"],
          description:
            "Upstash REST token (UPSTASH_REDIS_REST_TOKEN is read when AAT_UPSTASH_TOKEN is unset).",
          secret: true,
          requiredWhen: { key: "kv.kind", is: "upstash" },
        }),
      }),
    ),
    dynamodb: configSection("kv.dynamodb", () =>
      z.strictObject({
        table: setting(z.optional(text()), {
          env: "AAT_DYNAMODB_TABLE",
          description: "DynamoDB table name.",
          requiredWhen: { key: "kv.kind", is: "dynamodb" },
        }),
        region: setting(z.optional(text()), {
          env: "AAT_DYNAMODB_REGION",
          description: "AWS region; when unset the AWS SDK's own chain decides.",
        }),
        endpoint: setting(z.optional(httpUrl()), {
          env: "AAT_DYNAMODB_ENDPOINT",
          description: "Endpoint override, e.g. a local moto_server.",
        }),
        transport: awsTransport("AAT_DYNAMODB_TRANSPORT", "DynamoDB"),
      }),
    ),
  }),
);

export const MODEL_PROVIDERS = [
  "openai",
  "anthropic",
  "amazon-bedrock",
  "google-vertex",
  "azure",
  "openai-compatible",
  "offline",
] as const;
export type ModelProviderKind = (typeof MODEL_PROVIDERS)[number];

const PROVIDERS_NEEDING_BASE_URL: readonly ModelProviderKind[] = ["openai-compatible", "azure"];

const modelProvider = () =>
  z
    .strictObject({
      provider: setting(z.enum(MODEL_PROVIDERS), {
        env: "AAT_MODEL_<ALIAS>_PROVIDER",
        description:
          "Which provider serves this alias; offline is a deterministic local model for tests and demos.",
      }),
      model: setting(z.optional(text()), {
        env: "AAT_MODEL_<ALIAS>_MODEL",
        description: "The provider's model id. Required unless the provider is offline.",
        example: "gpt-4o-mini",
      }),
      apiKey: setting(z.optional(text()), {
        env: "AAT_MODEL_<ALIAS>_API_KEY",
        description:
          "API key; when unset the provider SDK's own variable (OPENAI_API_KEY, …) or cloud identity is used.",
        secret: true,
      }),
      baseUrl: setting(z.optional(httpUrl()), {
        env: "AAT_MODEL_<ALIAS>_BASE_URL",
        description: "API base URL. Required for openai-compatible and azure.",
      }),
      region: setting(z.optional(text()), {
        env: "AAT_MODEL_<ALIAS>_REGION",
        description:
          "Region for amazon-bedrock (AWS_REGION when unset) and location for google-vertex (GOOGLE_VERTEX_LOCATION when unset).",
      }),
      project: setting(z.optional(text()), {
        env: "AAT_MODEL_<ALIAS>_PROJECT",
        description: "Google Cloud project for google-vertex (GOOGLE_VERTEX_PROJECT when unset).",
      }),
      timeoutMs: setting(z.optional(positiveInt()), {
        env: "AAT_MODEL_<ALIAS>_TIMEOUT_MS",
        description:
          "Time limit of one model call; a call that takes longer fails as a retryable timeout. Unset: only the step's timeout applies.",
      }),
      costPerMillionInput: setting(z.optional(z.number().check(z.minimum(0))), {
        env: "AAT_MODEL_<ALIAS>_COST_PER_MILLION_INPUT",
        description: "Price of one million input tokens, for cost reports.",
      }),
      costPerMillionOutput: setting(z.optional(z.number().check(z.minimum(0))), {
        env: "AAT_MODEL_<ALIAS>_COST_PER_MILLION_OUTPUT",
        description: "Price of one million output tokens, for cost reports.",
      }),
    })
    .check(
      z.superRefine(
        (entry, ctx) => {
          // Runs even when the entry had other problems, so every problem is reported at once; the entry may be raw.
          if (typeof entry !== "object" || entry === null) return;
          if (
            entry.provider !== "offline" &&
            entry.model === undefined &&
            MODEL_PROVIDERS.includes(entry.provider)
          ) {
            ctx.addIssue({
              code: "custom",
              path: ["model"],
              message: `missing, required for provider ${entry.provider}`,
            });
          }
          if (PROVIDERS_NEEDING_BASE_URL.includes(entry.provider) && entry.baseUrl === undefined) {
            ctx.addIssue({
              code: "custom",
              path: ["baseUrl"],
              message: `missing, required for provider ${entry.provider}`,
            });
          }
        },
        { when: () => true },
      ),
    );

const models = configSection("models", () =>
  z.strictObject({
    default: setting(z._default(mapKeyName(), "default"), {
      env: "AAT_MODELS_DEFAULT",
      expected: "an alias configured in models.providers",
      description: "Alias used by agent steps that name no model. Must be one of models.providers.",
    }),
    providers: setting(
      z._default(z.record(mapKeyName(), modelProvider()), { default: { provider: "offline" } }),
      {
        env: "AAT_MODELS_JSON",
        mapKey: "alias",
        description:
          "Model aliases. AAT_MODELS_JSON holds the whole map as JSON; AAT_MODEL_<ALIAS>_* variables set or override single fields. When nothing is configured, alias default is the offline model.",
        expected: `a JSON object mapping an alias (${MAP_KEY_FORM}) to { provider, model, apiKey, baseUrl, region, project, timeoutMs, costPerMillionInput, costPerMillionOutput }`,
        example: '{"default":{"provider":"openai","model":"gpt-4o-mini"}}',
      },
    ),
  }),
);

const auth = configSection("auth", () =>
  z.strictObject({
    mode: setting(z._default(z.enum(["apiKey", "oidc", "none"]), "apiKey"), {
      env: "AAT_AUTH_MODE",
      description: "How API callers authenticate. none needs AAT_AUTH_ALLOW_NONE=true as well.",
    }),
    allowNone: setting(z._default(z.boolean(), false), {
      env: "AAT_AUTH_ALLOW_NONE",
      description:
        "Explicit opt-in to mode none: anyone who can reach the server can then run plans and read results.",
    }),
    oidc: configSection("auth.oidc", () =>
      z.strictObject({
        issuer: setting(z.optional(httpUrl()), {
          env: "AAT_OIDC_ISSUER",
          description: "OIDC issuer URL; tokens must carry it as iss.",
          example: "https://login.example.com/realms/aat",
          requiredWhen: { key: "auth.mode", is: "oidc" },
        }),
        audience: setting(z.optional(text()), {
          env: "AAT_OIDC_AUDIENCE",
          description: "Expected aud of tokens.",
          requiredWhen: { key: "auth.mode", is: "oidc" },
        }),
        jwksUrl: setting(z.optional(httpUrl()), {
          env: "AAT_OIDC_JWKS_URL",
          description: "JWKS URL; discovered from the issuer's /.well-known/openid-configuration when unset.",
        }),
      }),
    ),
    allowUnsignedWebhooks: setting(z._default(z.boolean(), false), {
      env: "AAT_AUTH_ALLOW_UNSIGNED_WEBHOOKS",
      description:
        "Accept POST /v1/hooks/<id> without a signature for webhook triggers that name no secret. Off by default: such triggers answer 401 until they name a secret.",
    }),
    bootstrapAdminKey: setting(z.optional(z.string().check(z.minLength(16))), {
      env: "AAT_AUTH_BOOTSTRAP_ADMIN_KEY",
      description: "An admin API key accepted at start-up so the first real keys can be created.",
      secret: true,
    }),
  }),
);

const plans = configSection("plans", () =>
  z.strictObject({
    directories: setting(z._default(z.array(text()), ["plans"]), {
      env: "AAT_PLANS_DIRS",
      description: "Directories plan definitions are loaded from.",
      path: true,
    }),
    watch: setting(z._default(z.boolean(), true), {
      env: "AAT_PLANS_WATCH",
      description: "Reload plan definitions when their files change.",
    }),
  }),
);

const limits = configSection("limits", () =>
  z.strictObject({
    maxRunDurationMs: setting(z._default(positiveInt(), 86_400_000), {
      env: "AAT_LIMITS_MAX_RUN_DURATION_MS",
      description: "A run still going after this long is failed with a timeout.",
    }),
    maxStepOutputBytes: setting(z._default(positiveInt(), 256 * KIB), {
      env: "AAT_LIMITS_MAX_STEP_OUTPUT_BYTES",
      description: "Largest output one step may record in the run state (KV stores limit value sizes).",
    }),
    maxConcurrentSteps: setting(z._default(positiveInt(), 16), {
      env: "AAT_LIMITS_MAX_CONCURRENT_STEPS",
      description: "Steps one worker process executes at the same time.",
    }),
    webhookReplayWindowMs: setting(z._default(positiveInt(), 300_000), {
      env: "AAT_LIMITS_WEBHOOK_REPLAY_WINDOW_MS",
      description: "Signed webhooks older than this (by their timestamp) are rejected as replays.",
    }),
    dedupeWindowMs: setting(z._default(positiveInt(), 86_400_000), {
      env: "AAT_LIMITS_DEDUPE_WINDOW_MS",
      description: "How long a completed dedupe claim is remembered.",
    }),
  }),
);

const telemetry = configSection("telemetry", () =>
  z.strictObject({
    logLevel: setting(
      z._default(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), "info"),
      {
        env: "AAT_LOG_LEVEL",
        description: "Least severe log level written.",
      },
    ),
    serviceName: setting(z._default(text(), "aat"), {
      env: "AAT_SERVICE_NAME",
      description: "Service name in logs (OpenTelemetry uses OTEL_SERVICE_NAME when that is set).",
    }),
    metrics: configSection("telemetry.metrics", () =>
      z.strictObject({
        enabled: setting(z._default(z.boolean(), true), {
          env: "AAT_METRICS_ENABLED",
          description:
            "Serve Prometheus metrics at GET /metrics (runs started and finished, step latency, queue depth, dedupe hits).",
        }),
        token: setting(z.optional(text()), {
          env: "AAT_METRICS_TOKEN",
          description:
            "When set, GET /metrics answers only requests with `Authorization: Bearer <token>`; unset, it is open like /healthz (counts only, no run data).",
          secret: true,
        }),
        port: setting(z.optional(nonNegativeInt().check(z.maximum(65_535))), {
          env: "AAT_METRICS_PORT",
          description:
            "Also serve GET /metrics on this port, in every role: the only way to scrape a worker process, which serves no API. 0 picks a free port.",
        }),
      }),
    ),
  }),
);

const http = configSection("http", () =>
  z.strictObject({
    allowHosts: setting(z._default(z.array(text()), []), {
      env: "AAT_HTTP_ALLOW_HOSTS",
      description:
        "Hosts the http.request tool may call even though they resolve to private, loopback, link-local or metadata addresses (refused otherwise): exact names or `*.example.com` wildcards. Public addresses are always allowed.",
      example: "api.example.com,*.internal.example.com",
    }),
    maxResponseBytes: setting(z._default(positiveInt(), MIB), {
      env: "AAT_HTTP_MAX_RESPONSE_BYTES",
      description: "Responses larger than this are cut off and the call fails.",
    }),
    timeoutMs: setting(z._default(positiveInt(), 10_000), {
      env: "AAT_HTTP_TIMEOUT_MS",
      description: "Time limit of one http.request call.",
    }),
  }),
);

const features = setting(
  z._default(
    z.record(
      mapKeyName(),
      setting(z.boolean(), {
        env: "AAT_FEATURE_<NAME>",
        description: "Turns the named feature flag on (true) or off (false); a flag not set is off.",
      }),
    ),
    {},
  ),
  {
    mapKey: "name",
    description: "Feature flags.",
    expected: `a map of flag name (${MAP_KEY_FORM}) to true/false`,
  },
);

export const configFields = z.strictObject({
  server,
  dataDir: setting(z._default(text(), "./.aat"), {
    env: "AAT_DATA_DIR",
    description: "Directory of the embedded SQLite database and other local state.",
    path: true,
  }),
  queue,
  kv,
  models,
  auth,
  plans,
  limits,
  telemetry,
  http,
  mcp: mcpSection,
  chat: chatSection,
  analytics: analyticsSection,
  coding: codingSection,
  threatintel: threatIntelSection,
  actions: actionsSection,
  alerts: alertsSection,
  features,
});

type Fields = z.output<typeof configFields>;
type Queue = Fields["queue"];
type Kv = Fields["kv"];
type Auth = Fields["auth"];

/** The queue settings, narrowed so the chosen kind's required options are known to be present. */
export type QueueConfig =
  | (Queue & { kind: "memory" | "sqlite" })
  | (Queue & { kind: "nats"; nats: Queue["nats"] & { servers: string[] } })
  | (Queue & { kind: "rabbitmq"; rabbitmq: Queue["rabbitmq"] & { url: string } })
  | (Queue & { kind: "sqs"; sqs: Queue["sqs"] & { queueUrl: string } })
  | (Queue & { kind: "pubsub"; pubsub: Queue["pubsub"] & { projectId: string } })
  | (Queue & { kind: "servicebus"; servicebus: Queue["servicebus"] & { connectionString: string } });

export type KvConfig =
  | (Kv & { kind: "memory" | "sqlite" })
  | (Kv & { kind: "redis"; redis: Kv["redis"] & { url: string } })
  | (Kv & { kind: "upstash"; upstash: Kv["upstash"] & { url: string; token: string } })
  | (Kv & { kind: "dynamodb"; dynamodb: Kv["dynamodb"] & { table: string } });

export type AuthConfig =
  | (Auth & { mode: "apiKey" | "none" })
  | (Auth & { mode: "oidc"; oidc: Auth["oidc"] & { issuer: string; audience: string } });

export type ModelProviderConfig = z.output<ReturnType<typeof modelProvider>>;

export type AatConfig = Omit<Fields, "queue" | "kv" | "auth"> & {
  queue: QueueConfig;
  kv: KvConfig;
  auth: AuthConfig;
};

/** The complete schema: field rules plus the rules that span settings (checks.ts), narrowed to AatConfig. */
export const aatConfigSchema = z.pipe(
  configFields.check(
    z.superRefine((config, ctx) => checkCrossSettings(configFields, config, ctx), { when: () => true }),
  ),
  z.transform((config) => config as AatConfig),
);
