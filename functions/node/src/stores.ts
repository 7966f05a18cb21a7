import { join } from "node:path";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { openSqlite, type SqliteDatabase, SqliteKeyValue, SqliteQueue } from "@aat/adapter-sqlite";
import type { AatConfig, Clock, KeyValue, Queue, WorkMessage } from "@aat/core";

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
  /** Where the data lives, for the start-up banner and logs. */
  description: string;
  close(): Promise<void>;
}

/** A backend kind whose adapter package does not exist yet. */
export class UnsupportedBackendError extends Error {
  constructor(what: "queue" | "kv", kind: string, setting: string) {
    super(
      `${what} kind "${kind}" needs the @aat/adapter-${kind} package, which is not built yet; ` +
        `set ${setting} to sqlite (the embedded default, one file under dataDir) or memory`,
    );
    this.name = "UnsupportedBackendError";
  }
}

/** Builds the KeyValue store and the step queue the configuration names. */
export function openStores(config: AatConfig, options: { clock?: Clock; queue?: QueueTuning } = {}): Stores {
  const { clock } = options;
  if (config.kv.kind !== "memory" && config.kv.kind !== "sqlite") {
    throw new UnsupportedBackendError("kv", config.kv.kind, "AAT_KV_KIND");
  }
  if (config.queue.kind !== "memory" && config.queue.kind !== "sqlite") {
    throw new UnsupportedBackendError("queue", config.queue.kind, "AAT_QUEUE_KIND");
  }
  const file = join(config.dataDir, SQLITE_FILE);
  let db: SqliteDatabase | undefined;
  const sqlite = () => {
    db ??= openSqlite(file);
    return db;
  };
  const clockOption = clock ? { clock } : {};
  const kv: KeyValue =
    config.kv.kind === "sqlite" ? new SqliteKeyValue(sqlite(), clockOption) : new MemoryKeyValue(clockOption);
  const queueOptions = {
    name: STEP_QUEUE,
    ...clockOption,
    ...(options.queue?.visibilityTimeoutMs !== undefined
      ? { visibilityTimeoutMs: options.queue.visibilityTimeoutMs }
      : {}),
    ...(options.queue?.maxDeliveries !== undefined ? { maxDeliveries: options.queue.maxDeliveries } : {}),
  };
  const queue: Queue<WorkMessage> =
    config.queue.kind === "sqlite"
      ? new SqliteQueue<WorkMessage>(sqlite(), queueOptions)
      : new MemoryQueue<WorkMessage>(queueOptions);
  const description = [
    `kv ${config.kv.kind}`,
    `queue ${config.queue.kind}`,
    ...(db ? [`SQLite file ${file}`] : ["nothing is kept after the process ends"]),
  ].join(", ");
  return {
    kv,
    queue,
    description,
    async close() {
      await queue.close();
      await kv.close();
      db?.close();
    },
  };
}
