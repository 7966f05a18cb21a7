/**
 * The real Redis and NATS JetStream servers the issue-4 benchmarks run against, found by URL as the
 * integration tests find them, and the raw round trips the benchmarks compare themselves with: a
 * sequential Redis SET NX PX and a JetStream publish with its ack, measured in the same run.
 */
import { randomBytes } from "node:crypto";
import {
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import type { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A suffix for this run's key prefixes and stream names, so runs never collide or leave garbage. */
export function runSuffix(): string {
  return Date.now().toString(36) + randomBytes(4).toString("hex");
}

/**
 * Microseconds per call of `op`, called up to `n` times one after the other after `warmup` calls;
 * no call starts after `budgetMs`, so a loaded machine still finishes in bounded time.
 */
export async function sequentialMicros(
  n: number,
  warmup: number,
  budgetMs: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await op(-1 - i);
  const start = process.hrtime.bigint();
  const end = start + BigInt(budgetMs) * 1_000_000n;
  let done = 0;
  while (done < n && process.hrtime.bigint() < end) await op(done++);
  return Number(process.hrtime.bigint() - start) / 1e3 / done;
}

/** Calls per second of `op` called up to `total` times by `concurrency` loops at once, within `budgetMs`. */
export async function concurrentRate(
  total: number,
  concurrency: number,
  budgetMs: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  let done = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(budgetMs) * 1_000_000n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && process.hrtime.bigint() < end) {
        await op(next++);
        done++;
      }
    }),
  );
  return (done * 1e9) / Number(process.hrtime.bigint() - start);
}

/** Raw Redis: `SET key value NX PX ttl` with a new key each call, as a claim is. Keys go under `prefix`. */
export function redisSetNx(redis: Redis, prefix: string, value: string): (i: number) => Promise<unknown> {
  let n = 0;
  return () => redis.set(`${prefix}:raw:${n++}`, value, "PX", 60_000, "NX");
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

/**
 * A raw JetStream stream laid out like the step queue's (work-queue retention, file storage, a
 * duplicate window), published to with a message id and a header per message and awaiting each ack.
 */
export class RawJetStream {
  private count = 0;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly manager: JetStreamManager,
    private readonly client: JetStreamClient,
    readonly stream: string,
    private readonly subject: string,
  ) {}

  static async open(stream: string, servers = NATS_URL): Promise<RawJetStream> {
    // The same client setting as the NATS adapter's (no per-request Error objects for async traces).
    const connection = await connect({ servers, name: `aat-bench-${stream}`, noAsyncTraces: true });
    const manager = await jetstreamManager(connection);
    const subject = `${stream.toLowerCase()}.raw`;
    await manager.streams.add({
      name: stream,
      subjects: [subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: 120_000 * 1_000_000,
    });
    return new RawJetStream(connection, manager, jetstream(connection), stream, subject);
  }

  /** One publish with its ack, carrying `body`, a Nats-Msg-Id and one header as the step queue's do. */
  publish(body: Uint8Array): Promise<unknown> {
    const h = headers();
    const id = `${this.stream}-${this.count++}`;
    h.set("Aat-Message-Id", id);
    return this.client.publish(this.subject, body, { msgID: id, headers: h });
  }

  async close(): Promise<void> {
    await this.manager.streams.delete(this.stream).catch(() => false);
    await this.connection.drain();
  }
}

/** Deletes a JetStream stream if it is still there (a clean-up step). */
export async function deleteStream(stream: string, servers = NATS_URL): Promise<void> {
  const connection = await connect({ servers, name: `aat-bench-cleanup-${stream}` });
  try {
    const manager = await jetstreamManager(connection);
    await manager.streams.delete(stream).catch(() => false);
  } finally {
    await connection.close();
  }
}
