import { join } from "node:path";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { openSqlite, type SqliteDatabase, SqliteKeyValue, SqliteQueue } from "@aat/adapter-sqlite";
import type { AatConfig, Clock, KeyValue, Queue, WorkMessage } from "@aat/core";
import {
  configuredLeaseMs,
  connectDynamoKeyValue,
  connectNatsQueue,
  connectPubSubQueue,
  connectRabbitQueue,
  connectRedisKeyValue,
  connectSqsQueue,
  connectUpstashKeyValue,
} from "./network-stores.js";

/** The SQLite file of the embedded default, inside config.dataDir. */
export const SQLITE_FILE = "aat.sqlite";
/** Name of the step queue inside that file. */
export const STEP_QUEUE = "steps";

export interface QueueTuning {
  /** Lease of a received message before it is redelivered (the worker heartbeats while it runs). */
  visibilityTimeoutMs?: number;
  /** Deliveries before a message is dead-lettered. */
  maxDeliveries?: number;
}

export interface Stores {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  /** How long a received message stays leased: the worker renews well within it. */
  leaseMs: number;
  /** Where the data lives, for the start-up banner and logs. */
  description: string;
  close(): Promise<void>;
}

/** A backend kind whose adapter package does not exist yet. */
export class UnsupportedBackendError extends Error {
  constructor(what: "queue" | "kv", kind: string, setting: string) {
    const supported =
      what === "kv"
        ? "sqlite, memory, redis, upstash or dynamodb"
        : "sqlite, memory, nats, rabbitmq, sqs or pubsub";
    super(
      `${what} kind "${kind}" needs the @aat/adapter-${kind} package, which is not built yet; ` +
        `set ${setting} to ${supported} (sqlite is the embedded default, one file under dataDir)`,
    );
    this.name = "UnsupportedBackendError";
  }
}

export interface OpenStoresOptions {
  clock?: Clock;
  queue?: QueueTuning;
  /** The process's role, shown in the queue's connection name (NATS). */
  role?: string;
  /** Told about failures of a queue's background work, which retries by itself. */
  onBackgroundError?: (error: Error) => void;
}

const SUPPORTED_KV = ["memory", "sqlite", "redis", "upstash", "dynamodb"];
const SUPPORTED_QUEUES = ["memory", "sqlite", "nats", "rabbitmq", "sqs", "pubsub"];

/**
 * Builds the KeyValue store and the step queue the configuration names. Network backends are connected
 * and checked here, so a server that does not answer stops the start with its (password-free) address.
 */
export async function openStores(config: AatConfig, options: OpenStoresOptions = {}): Promise<Stores> {
  if (!SUPPORTED_KV.includes(config.kv.kind))
    throw new UnsupportedBackendError("kv", config.kv.kind, "AAT_KV_KIND");
  if (!SUPPORTED_QUEUES.includes(config.queue.kind)) {
    throw new UnsupportedBackendError("queue", config.queue.kind, "AAT_QUEUE_KIND");
  }
  const { clock } = options;
  const clockOption = clock ? { clock } : {};
  const file = join(config.dataDir, SQLITE_FILE);
  let db: SqliteDatabase | undefined;
  const sqlite = () => {
    db ??= openSqlite(file);
    return db;
  };
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const { kv, label } = await openKeyValue(config, sqlite, clockOption);
    opened.push(kv);
    const queue = await openQueue(config, kv, sqlite, options);
    opened.push(queue);
    const description = [
      label,
      queueDescription(config),
      ...(db ? [`SQLite file ${file}`] : []),
      ...(config.kv.kind === "memory" && config.queue.kind === "memory"
        ? ["nothing is kept after the process ends"]
        : []),
    ].join(", ");
    return {
      kv,
      queue,
      leaseMs: configuredLeaseMs(config, options.queue),
      description,
      async close() {
        await queue.close();
        await kv.close();
        db?.close();
      },
    };
  } catch (error) {
    for (const store of opened.reverse()) await store.close().catch(() => undefined);
    db?.close();
    throw error;
  }
}

async function openKeyValue(
  config: AatConfig,
  sqlite: () => SqliteDatabase,
  clockOption: { clock?: Clock },
): Promise<{ kv: KeyValue; label: string }> {
  switch (config.kv.kind) {
    case "redis": {
      const kv = await connectRedisKeyValue(config.kv);
      return { kv, label: `kv redis ${kv.server} namespace ${kv.keyPrefix}` };
    }
    case "dynamodb": {
      const kv = await connectDynamoKeyValue(config.kv);
      return { kv, label: `kv dynamodb table ${kv.tableName}` };
    }
    case "upstash":
      return { kv: await connectUpstashKeyValue(config.kv), label: `kv upstash ${config.kv.upstash.url}` };
    case "sqlite":
      return { kv: new SqliteKeyValue(sqlite(), clockOption), label: "kv sqlite" };
    default:
      return { kv: new MemoryKeyValue(clockOption), label: "kv memory" };
  }
}

async function openQueue(
  config: AatConfig,
  kv: KeyValue,
  sqlite: () => SqliteDatabase,
  options: OpenStoresOptions,
): Promise<Queue<WorkMessage>> {
  const tuning = options.queue;
  const clockOption = options.clock ? { clock: options.clock } : {};
  switch (config.queue.kind) {
    case "nats":
      return connectNatsQueue(config.queue, {
        ...clockOption,
        ...(tuning ? { tuning } : {}),
        role: options.role ?? config.server.role,
        onError: options.onBackgroundError ?? ((error) => console.warn(error.message)),
      });
    case "rabbitmq":
      return connectRabbitQueue(config.queue, kv, { ...clockOption, ...(tuning ? { tuning } : {}) });
    case "sqs":
      return connectSqsQueue(config.queue, kv, { ...clockOption, ...(tuning ? { tuning } : {}) });
    case "pubsub":
      return connectPubSubQueue(config.queue, kv, tuning ? { tuning } : {});
    default: {
      const queueOptions = {
        name: STEP_QUEUE,
        ...clockOption,
        ...(tuning?.visibilityTimeoutMs !== undefined
          ? { visibilityTimeoutMs: tuning.visibilityTimeoutMs }
          : {}),
        ...(tuning?.maxDeliveries !== undefined ? { maxDeliveries: tuning.maxDeliveries } : {}),
      };
      return config.queue.kind === "sqlite"
        ? new SqliteQueue<WorkMessage>(sqlite(), queueOptions)
        : new MemoryQueue<WorkMessage>(queueOptions);
    }
  }
}

function queueDescription(config: AatConfig): string {
  const queue = config.queue;
  if (queue.kind === "nats")
    return `queue nats stream ${queue.nats.stream} on ${maskServers(queue.nats.servers)}`;
  if (queue.kind === "rabbitmq")
    return `queue rabbitmq ${queue.rabbitmq.queue} on ${maskUrl(queue.rabbitmq.url)}`;
  if (queue.kind === "sqs") return `queue sqs ${queue.sqs.queueUrl}`;
  if (queue.kind === "pubsub") return `queue pubsub topic ${queue.pubsub.topic} in ${queue.pubsub.projectId}`;
  return `queue ${queue.kind}`;
}

function maskServers(servers: readonly string[]): string {
  return servers.map(maskUrl).join(",");
}

/** A URL for the banner and logs, with any password replaced by ***. */
function maskUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = "***";
    return url.toString().replace(/\/$/, "");
  } catch {
    return text.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}
