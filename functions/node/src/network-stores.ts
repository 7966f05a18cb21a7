import { hostname } from "node:os";
import { NatsBroadcast, NatsQueue, type NatsQueueOptions } from "@aat/adapter-nats";
import { RabbitQueue } from "@aat/adapter-rabbitmq";
import { RedisBroadcast, RedisKeyValue } from "@aat/adapter-redis";
import type {
  AatConfig,
  Broadcast,
  Clock,
  KeyValue,
  KvConfig,
  Queue,
  QueueConfig,
  WorkMessage,
} from "@aat/core";
import type { QueueTuning } from "./stores.js";

type RedisConfig = Extract<KvConfig, { kind: "redis" }>;
type NatsConfig = Extract<QueueConfig, { kind: "nats" }>;
type RabbitConfig = Extract<QueueConfig, { kind: "rabbitmq" }>;
type SqsConfig = Extract<QueueConfig, { kind: "sqs" }>;
type PubSubConfig = Extract<QueueConfig, { kind: "pubsub" }>;
type DynamoConfig = Extract<KvConfig, { kind: "dynamodb" }>;
type UpstashConfig = Extract<KvConfig, { kind: "upstash" }>;

/** The step queue's subject under `queue.nats.subjectPrefix`. */
export const NATS_STEP_SUBJECT = "steps";

/**
 * A backend that could not be opened at start (not reachable, refused the login, or holds objects
 * declared with other settings). The adapters' own messages name the server with the password masked;
 * this adds which settings point there, so the fix is obvious.
 */
export class BackendStartError extends Error {
  constructor(what: string, settings: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${what} could not be opened: ${reason} (settings: ${settings})`, { cause });
    this.name = "BackendStartError";
  }
}

/** Redis as the KeyValue store: connects and pings, so a wrong URL or password stops the start. */
export async function connectRedisKeyValue(config: RedisConfig): Promise<RedisKeyValue> {
  try {
    return await RedisKeyValue.connect(redisSettings(config));
  } catch (error) {
    throw new BackendStartError(
      "the KeyValue store (kv.kind redis)",
      "AAT_REDIS_URL or REDIS_URL, AAT_REDIS_KEY_PREFIX, AAT_REDIS_TLS, AAT_REDIS_*_TIMEOUT_MS",
      error,
    );
  }
}

function redisSettings(config: RedisConfig) {
  const { url, keyPrefix, tls, commandTimeoutMs, connectTimeoutMs, maxRetriesPerRequest } = config.redis;
  return {
    url,
    keyPrefix,
    ...(tls ? { tls: true as const } : {}),
    commandTimeoutMs,
    connectTimeoutMs,
    maxRetriesPerRequest,
  };
}

/** Where the node runtime connects to NATS, for the step queue and the broadcast alike. */
function natsSettings(nats: NatsConfig["nats"], role: string) {
  return {
    servers: nats.servers,
    connectionName: `aat-${role}@${hostname()}:${process.pid}`,
    ...(nats.user !== undefined ? { user: nats.user, pass: nats.pass ?? "" } : {}),
    ...(nats.token !== undefined ? { token: nats.token } : {}),
    ...(nats.credsFile !== undefined ? { credsFile: nats.credsFile } : {}),
    ...(nats.tls ? { tls: true as const } : {}),
  };
}

/**
 * The broadcast that carries chat deltas between processes: NATS core subjects when the step queue is
 * NATS, else Redis pub/sub when the KeyValue store is Redis; none otherwise (one process, or backends
 * without pub/sub: deltas then stay in the process that runs the step).
 */
export async function connectBroadcast(config: AatConfig, role: string): Promise<Broadcast | undefined> {
  try {
    if (config.queue.kind === "nats") {
      const { nats } = config.queue;
      return await NatsBroadcast.connect({
        ...natsSettings(nats, `${role}-broadcast`),
        subjectPrefix: `${nats.subjectPrefix}.broadcast`,
      });
    }
    if (config.kv.kind === "redis") return await RedisBroadcast.connect(redisSettings(config.kv));
    return undefined;
  } catch (error) {
    throw new BackendStartError(
      "the broadcast of chat deltas between processes",
      config.queue.kind === "nats"
        ? "AAT_NATS_SERVERS and the AAT_NATS_* credentials"
        : "AAT_REDIS_URL and AAT_REDIS_*",
      error,
    );
  }
}

/** The NATS JetStream step queue; every api and worker process provisions and shares the same stream. */
export async function connectNatsQueue(
  config: NatsConfig,
  options: { clock?: Clock; tuning?: QueueTuning; role: string; onError: (error: Error) => void },
): Promise<NatsQueue<WorkMessage>> {
  const nats = config.nats;
  const settings: NatsQueueOptions = {
    ...natsSettings(nats, options.role),
    stream: nats.stream,
    subject: `${nats.subjectPrefix}.${NATS_STEP_SUBJECT}`,
    ackWaitMs: options.tuning?.visibilityTimeoutMs ?? nats.ackWaitMs,
    maxDeliver: options.tuning?.maxDeliveries ?? nats.maxDeliver,
    duplicateWindowMs: nats.duplicateWindowMs,
    onError: options.onError,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  try {
    return await NatsQueue.connect<WorkMessage>(settings);
  } catch (error) {
    throw new BackendStartError(
      "the step queue (queue.kind nats)",
      "AAT_NATS_SERVERS or NATS_URL, AAT_NATS_STREAM and the AAT_NATS_* credentials",
      error,
    );
  }
}

/** The RabbitMQ step queue. RabbitMQ has no broker-side dedupe: claims live in the shared KeyValue. */
export async function connectRabbitQueue(
  config: RabbitConfig,
  kv: KeyValue,
  options: { clock?: Clock; tuning?: QueueTuning },
): Promise<RabbitQueue<WorkMessage>> {
  const rabbit = config.rabbitmq;
  try {
    return await RabbitQueue.connect<WorkMessage>({
      url: rabbit.url,
      name: rabbit.queue,
      visibilityTimeoutMs: options.tuning?.visibilityTimeoutMs ?? rabbit.visibilityTimeoutMs,
      maxDeliveries: options.tuning?.maxDeliveries ?? rabbit.maxDeliveries,
      kv,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (error) {
    throw new BackendStartError(
      "the step queue (queue.kind rabbitmq)",
      "AAT_RABBITMQ_URL, AAT_RABBITMQ_QUEUE",
      error,
    );
  }
}

/*
 * The cloud backends below are imported only when configured: a process on Redis and NATS never loads
 * the AWS or Google SDKs (their import alone costs 100-500 ms).
 */

/** DynamoDB as the KeyValue store: checks the table exists, so a wrong name or region stops the start. */
export async function connectDynamoKeyValue(config: DynamoConfig): Promise<KeyValue & { tableName: string }> {
  const { DynamoKeyValue, dynamoOptionsFromSettings } = await import("@aat/adapter-dynamodb");
  try {
    return await DynamoKeyValue.connect(dynamoOptionsFromSettings(config.dynamodb));
  } catch (error) {
    throw new BackendStartError(
      "the KeyValue store (kv.kind dynamodb)",
      "AAT_DYNAMODB_TABLE, AAT_DYNAMODB_REGION (or AWS_REGION), AAT_DYNAMODB_ENDPOINT and the AWS credentials",
      error,
    );
  }
}

/** Upstash Redis over its REST API as the KeyValue store; pings, so a wrong URL or token stops the start. */
export async function connectUpstashKeyValue(config: UpstashConfig): Promise<KeyValue> {
  const { UpstashKeyValue } = await import("@aat/adapter-upstash");
  try {
    return await UpstashKeyValue.connect({ url: config.upstash.url, token: config.upstash.token });
  } catch (error) {
    throw new BackendStartError(
      "the KeyValue store (kv.kind upstash)",
      "AAT_UPSTASH_URL (UPSTASH_REDIS_REST_URL), AAT_UPSTASH_TOKEN (UPSTASH_REDIS_REST_TOKEN)",
      error,
    );
  }
}

/** The queue name at the end of an SQS queue URL, without ".fifo". */
export function sqsQueueName(queueUrl: string, fifo: boolean): string {
  const last = new URL(queueUrl).pathname.split("/").filter(Boolean).at(-1) ?? "";
  return fifo ? last.replace(/\.fifo$/, "") : last;
}

/** The SQS step queue (created with its dead-letter queue when missing); dedupe claims in `kv` on standard queues. */
export async function connectSqsQueue(
  config: SqsConfig,
  kv: KeyValue,
  options: { clock?: Clock; tuning?: QueueTuning },
): Promise<Queue<WorkMessage>> {
  const { SqsQueue, sqsOptionsFromSettings } = await import("@aat/adapter-sqs");
  const tunedVisibility = options.tuning?.visibilityTimeoutMs;
  try {
    return await SqsQueue.connect<WorkMessage>({
      name: sqsQueueName(config.sqs.queueUrl, config.sqs.fifo),
      ...sqsOptionsFromSettings(config.sqs),
      ...(tunedVisibility !== undefined ? { visibilityTimeoutMs: tunedVisibility } : {}),
      ...(options.tuning?.maxDeliveries !== undefined ? { maxDeliveries: options.tuning.maxDeliveries } : {}),
      kv,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (error) {
    throw new BackendStartError(
      "the step queue (queue.kind sqs)",
      "AAT_SQS_QUEUE_URL, AAT_SQS_REGION (or AWS_REGION), AAT_SQS_FIFO, AAT_SQS_ENDPOINT, AAT_SQS_CLAIM_CHECK_BUCKET and the AWS credentials",
      error,
    );
  }
}

/** The Pub/Sub step queue (topic, pull subscription and dead-letter topic created when missing). */
export async function connectPubSubQueue(
  config: PubSubConfig,
  kv: KeyValue,
  options: { tuning?: QueueTuning },
): Promise<Queue<WorkMessage>> {
  const { PubSubQueue } = await import("@aat/adapter-pubsub");
  const { projectId, topic, emulatorHost, provision } = config.pubsub;
  try {
    return await PubSubQueue.open<WorkMessage>({
      name: topic,
      projectId,
      kv,
      ...(emulatorHost ? { apiEndpoint: emulatorHost } : {}),
      provision,
      ...(options.tuning?.visibilityTimeoutMs !== undefined
        ? { visibilityTimeoutMs: options.tuning.visibilityTimeoutMs }
        : {}),
      ...(options.tuning?.maxDeliveries !== undefined ? { maxDeliveries: options.tuning.maxDeliveries } : {}),
    });
  } catch (error) {
    throw new BackendStartError(
      "the step queue (queue.kind pubsub)",
      "AAT_PUBSUB_PROJECT_ID (GOOGLE_CLOUD_PROJECT), AAT_PUBSUB_TOPIC, AAT_PUBSUB_EMULATOR_HOST and the Google credentials",
      error,
    );
  }
}

/** The lease length of the configured queue, so the worker heartbeats well within it. */
export function configuredLeaseMs(config: AatConfig, tuning: QueueTuning | undefined): number {
  if (tuning?.visibilityTimeoutMs !== undefined) return tuning.visibilityTimeoutMs;
  if (config.queue.kind === "nats") return config.queue.nats.ackWaitMs;
  if (config.queue.kind === "rabbitmq") return config.queue.rabbitmq.visibilityTimeoutMs;
  return DEFAULT_LEASE_MS;
}

/** SQLite and memory queues lease for 30 s unless tuned. */
export const DEFAULT_LEASE_MS = 30_000;
