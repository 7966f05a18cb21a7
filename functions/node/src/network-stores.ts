import { hostname } from "node:os";
import { NatsQueue, type NatsQueueOptions } from "@aat/adapter-nats";
import { RabbitQueue } from "@aat/adapter-rabbitmq";
import { RedisKeyValue } from "@aat/adapter-redis";
import type { AatConfig, Clock, KeyValue, KvConfig, QueueConfig, WorkMessage } from "@aat/core";
import type { QueueTuning } from "./stores.js";

type RedisConfig = Extract<KvConfig, { kind: "redis" }>;
type NatsConfig = Extract<QueueConfig, { kind: "nats" }>;
type RabbitConfig = Extract<QueueConfig, { kind: "rabbitmq" }>;

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
  const { url, keyPrefix, tls, commandTimeoutMs, connectTimeoutMs, maxRetriesPerRequest } = config.redis;
  try {
    return await RedisKeyValue.connect({
      url,
      keyPrefix,
      ...(tls ? { tls: true } : {}),
      commandTimeoutMs,
      connectTimeoutMs,
      maxRetriesPerRequest,
    });
  } catch (error) {
    throw new BackendStartError(
      "the KeyValue store (kv.kind redis)",
      "AAT_REDIS_URL or REDIS_URL, AAT_REDIS_KEY_PREFIX, AAT_REDIS_TLS, AAT_REDIS_*_TIMEOUT_MS",
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
    servers: nats.servers,
    stream: nats.stream,
    subject: `${nats.subjectPrefix}.${NATS_STEP_SUBJECT}`,
    ackWaitMs: options.tuning?.visibilityTimeoutMs ?? nats.ackWaitMs,
    maxDeliver: options.tuning?.maxDeliveries ?? nats.maxDeliver,
    duplicateWindowMs: nats.duplicateWindowMs,
    connectionName: `aat-${options.role}@${hostname()}:${process.pid}`,
    onError: options.onError,
    ...(nats.user !== undefined ? { user: nats.user, pass: nats.pass ?? "" } : {}),
    ...(nats.token !== undefined ? { token: nats.token } : {}),
    ...(nats.credsFile !== undefined ? { credsFile: nats.credsFile } : {}),
    ...(nats.tls ? { tls: true as const } : {}),
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

/** The lease length of the configured queue, so the worker heartbeats well within it. */
export function configuredLeaseMs(config: AatConfig, tuning: QueueTuning | undefined): number {
  if (tuning?.visibilityTimeoutMs !== undefined) return tuning.visibilityTimeoutMs;
  if (config.queue.kind === "nats") return config.queue.nats.ackWaitMs;
  if (config.queue.kind === "rabbitmq") return config.queue.rabbitmq.visibilityTimeoutMs;
  return DEFAULT_LEASE_MS;
}

/** SQLite and memory queues lease for 30 s unless tuned. */
export const DEFAULT_LEASE_MS = 30_000;
