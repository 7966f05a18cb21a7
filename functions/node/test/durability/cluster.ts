import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { NatsQueue } from "@aat/adapter-nats";
import { RabbitQueue } from "@aat/adapter-rabbitmq";
import { deleteNamespace, RedisKeyValue } from "@aat/adapter-redis";
import { uniqueSuffix } from "@aat/core/testing";
import { Redis } from "ioredis";
import { effectKeys } from "../fixtures/durable/effect-tools.js";
import { type ChildProcessHandle, spawnProcess, tempDir } from "../support.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

const ENTRY = fileURLToPath(new URL("../fixtures/durable-runtime.ts", import.meta.url));
export const DURABLE_PLANS = fileURLToPath(new URL("../fixtures/durable-plans", import.meta.url));

export interface ClusterOptions {
  workers: number;
  /** The step queue (default nats); the KeyValue store is always Redis. */
  queue?: "nats" | "rabbitmq";
  /** Extra environment for every process (queue settings, log level, publish copies). */
  env?: Record<string, string>;
}

interface RuntimeProcess extends ChildProcessHandle {
  role: "api" | "worker";
}

/**
 * One api process and N worker processes sharing a step queue (a NATS stream or a RabbitMQ queue) and a
 * Redis namespace made for this cluster alone; `destroy()` kills them and removes the queue and every key.
 */
export class Cluster {
  readonly prefix: string;
  readonly stream: string;
  readonly keys: ReturnType<typeof effectKeys>;
  /** The test's own connections: the tools' counters, and the runtime's KeyValue for progress. */
  readonly redis: Redis;
  readonly kv: RedisKeyValue;
  apiUrl = "";
  private readonly workers = new Set<RuntimeProcess>();
  private readonly all: RuntimeProcess[] = [];
  private env: Record<string, string> = {};
  private queueKind: "nats" | "rabbitmq" = "nats";
  private dataDir = "";

  private constructor() {
    const suffix = uniqueSuffix();
    this.prefix = `aat-durable-${suffix}`;
    this.stream = `AAT_DURABLE_${suffix}`;
    this.keys = effectKeys(this.prefix);
    this.redis = new Redis(REDIS_URL);
    this.kv = new RedisKeyValue({ url: REDIS_URL, keyPrefix: this.prefix });
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster();
    try {
      await cluster.launch(options);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  private async launch(options: ClusterOptions): Promise<void> {
    this.dataDir = await tempDir("durable");
    this.env = {
      AAT_DATA_DIR: this.dataDir,
      AAT_KV_KIND: "redis",
      AAT_REDIS_URL: REDIS_URL,
      AAT_REDIS_KEY_PREFIX: this.prefix,
      ...this.queueEnv(options.queue ?? "nats"),
      AAT_SERVER_PORT: "0",
      AAT_AUTH_MODE: "none",
      AAT_AUTH_ALLOW_NONE: "true",
      AAT_PLANS_DIRS: DURABLE_PLANS,
      AAT_PLANS_WATCH: "false",
      AAT_LOG_LEVEL: "warn",
      DURABLE_REDIS_URL: REDIS_URL,
      ...options.env,
    };
    // The api first: it provisions the stream and publishes the plans before any worker asks for them.
    const api = await this.spawn("api");
    this.apiUrl = api.ready;
    await Promise.all(Array.from({ length: options.workers }, () => this.startWorker()));
  }

  private queueEnv(kind: "nats" | "rabbitmq"): Record<string, string> {
    this.queueKind = kind;
    if (kind === "rabbitmq") {
      return {
        AAT_QUEUE_KIND: "rabbitmq",
        AAT_RABBITMQ_URL: RABBITMQ_URL,
        AAT_RABBITMQ_QUEUE: this.queueName,
      };
    }
    return {
      AAT_QUEUE_KIND: "nats",
      AAT_NATS_SERVERS: NATS_URL,
      AAT_NATS_STREAM: this.stream,
      AAT_NATS_SUBJECT_PREFIX: this.stream.toLowerCase(),
    };
  }

  /** The RabbitMQ queue's name (RabbitMQ clusters). */
  get queueName(): string {
    return this.prefix;
  }

  private async spawn(role: "api" | "worker"): Promise<RuntimeProcess & { ready: string }> {
    const ready = role === "api" ? /is listening on (http:\/\/\S+?);/ : /\(role (worker)\) is working/;
    // Up to 90 s to start: a loaded CI machine takes tens of seconds to boot a TypeScript runtime.
    const handle = await spawnProcess(ENTRY, { ...this.env, AAT_SERVER_ROLE: role }, ready, {
      attempts: 1800,
    });
    const process = { ...handle, role };
    this.all.push(process);
    return process;
  }

  /** Starts one more worker and resolves once it works. */
  async startWorker(): Promise<void> {
    const worker = await this.spawn("worker");
    this.workers.add(worker);
  }

  get workerCount(): number {
    return this.workers.size;
  }

  /** Process ids of every worker started so far, killed ones included. */
  workerPids(): string[] {
    return this.all
      .filter((process) => process.role === "worker")
      .map((process) => String(process.child.pid));
  }

  /** The JSON log lines of every worker, parsed (other output is skipped). */
  workerLogLines(): Array<Record<string, unknown>> {
    const lines: Array<Record<string, unknown>> = [];
    for (const process of this.all) {
      if (process.role !== "worker") continue;
      for (const line of process.output().split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // A line cut off by SIGKILL.
        }
      }
    }
    return lines;
  }

  /** SIGKILLs a random running worker and waits until it is gone. */
  async killRandomWorker(): Promise<void> {
    const running = [...this.workers];
    const victim = running[Math.floor(Math.random() * running.length)];
    if (!victim) throw new Error("no worker is running to kill");
    this.workers.delete(victim);
    victim.child.kill("SIGKILL");
    const { signal } = await victim.exited;
    if (signal !== "SIGKILL") throw new Error(`the worker exited with ${signal} instead of being killed`);
  }

  /** Everything every process printed (the runtimes log JSON lines). */
  output(): string {
    return this.all.map((process) => process.output()).join("\n");
  }

  async destroy(): Promise<void> {
    for (const process of this.all) {
      if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill("SIGKILL");
    }
    await Promise.all(this.all.map((process) => process.exited));
    if (this.queueKind === "rabbitmq") {
      await RabbitQueue.destroy({ url: RABBITMQ_URL, name: this.queueName }).catch(() => undefined);
    } else {
      await NatsQueue.destroy({ servers: NATS_URL, stream: this.stream }).catch(() => undefined);
    }
    await deleteNamespace(this.redis, this.prefix).catch(() => undefined);
    await this.kv.close().catch(() => undefined);
    this.redis.disconnect();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
