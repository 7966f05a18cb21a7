import type { PubSubQueue } from "@aat/adapter-pubsub";
import type { AatConfig, KeyValue, WorkMessage } from "@aat/core";

/** A store kind a Cloud Run function cannot use: the message names the setting and the kinds that work. */
export class GcpBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GcpBackendError";
  }
}

export interface GcpStores {
  kv: KeyValue;
  queue: PubSubQueue<WorkMessage>;
  description: string;
  close(): Promise<void>;
}

/**
 * The KeyValue store and the step queue of a function instance, from the configuration. Each adapter is
 * imported only when configured. An instance's disk does not outlive it: kv must be redis (Memorystore)
 * or upstash, queue must be pubsub (the topic the push subscription delivers from).
 */
export async function openGcpStores(config: AatConfig): Promise<GcpStores> {
  const kv = await openKeyValue(config);
  try {
    const queue = await openQueue(config, kv);
    return {
      kv,
      queue,
      description: `kv ${config.kv.kind}, queue ${config.queue.kind}`,
      async close() {
        await queue.close();
        await kv.close();
      },
    };
  } catch (error) {
    await kv.close().catch(() => undefined);
    throw error;
  }
}

async function openKeyValue(config: AatConfig): Promise<KeyValue> {
  const kv = config.kv;
  switch (kv.kind) {
    case "redis": {
      const { RedisKeyValue } = await import("@aat/adapter-redis");
      const { url, keyPrefix, tls, commandTimeoutMs, connectTimeoutMs, maxRetriesPerRequest } = kv.redis;
      return await RedisKeyValue.connect({
        url,
        keyPrefix,
        ...(tls ? { tls: true } : {}),
        commandTimeoutMs,
        connectTimeoutMs,
        maxRetriesPerRequest,
      });
    }
    case "upstash": {
      const { UpstashKeyValue } = await import("@aat/adapter-upstash");
      return await UpstashKeyValue.connect({ url: kv.upstash.url, token: kv.upstash.token });
    }
    default:
      throw new GcpBackendError(
        `kv kind "${kv.kind}" cannot hold state on Cloud Run functions (nothing on an instance's disk survives it); ` +
          "set AAT_KV_KIND to redis (with AAT_REDIS_URL, e.g. Memorystore) or upstash (with AAT_UPSTASH_URL and AAT_UPSTASH_TOKEN)",
      );
  }
}

async function openQueue(config: AatConfig, kv: KeyValue): Promise<PubSubQueue<WorkMessage>> {
  const queue = config.queue;
  if (queue.kind !== "pubsub") {
    throw new GcpBackendError(
      `queue kind "${queue.kind}" cannot trigger the Pub/Sub push function; set AAT_QUEUE_KIND to pubsub, ` +
        "AAT_PUBSUB_PROJECT_ID (or GOOGLE_CLOUD_PROJECT) and AAT_PUBSUB_TOPIC to the topic the push subscription reads",
    );
  }
  const { PubSubQueue } = await import("@aat/adapter-pubsub");
  const { projectId, topic, emulatorHost, provision } = queue.pubsub;
  // Delivery counts and dedupe claims (Pub/Sub has no publish dedupe) live in the same KeyValue store.
  return await PubSubQueue.open<WorkMessage>({
    name: topic,
    projectId,
    kv,
    ...(emulatorHost ? { apiEndpoint: emulatorHost } : {}),
    provision,
    // Publishing goes through the REST API (a token from the metadata server on Google Cloud, none for
    // the emulator): a function that only publishes never loads the client library (~0.4 s of import).
    rest: { auth: emulatorHost ? "none" : "metadata" },
  });
}
