import type { ServiceBusQueue } from "@aat/adapter-servicebus";
import type { AatConfig, KeyValue, WorkMessage } from "@aat/core";

/** A store kind an Azure Functions app cannot use: the message names the setting and the kinds that work. */
export class AzureBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AzureBackendError";
  }
}

export interface AzureStores {
  kv: KeyValue;
  queue: ServiceBusQueue<WorkMessage>;
  description: string;
  close(): Promise<void>;
}

/**
 * The KeyValue store and the step queue of a Functions worker, from the configuration. Each adapter is
 * imported only when configured. Nothing on an instance's disk is shared: kv must be redis (Azure Cache
 * for Redis) or upstash, queue must be servicebus (the queue the Service Bus trigger reads).
 */
export async function openAzureStores(config: AatConfig): Promise<AzureStores> {
  const kv = await openKeyValue(config);
  try {
    const queue = await openQueue(config);
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
      throw new AzureBackendError(
        `kv kind "${kv.kind}" cannot hold state on Azure Functions (an instance's disk is neither shared nor kept); ` +
          "set AAT_KV_KIND to redis (with AAT_REDIS_URL, e.g. Azure Cache for Redis) or upstash (with AAT_UPSTASH_URL and AAT_UPSTASH_TOKEN)",
      );
  }
}

async function openQueue(config: AatConfig): Promise<ServiceBusQueue<WorkMessage>> {
  const queue = config.queue;
  if (queue.kind !== "servicebus") {
    throw new AzureBackendError(
      `queue kind "${queue.kind}" cannot trigger the Service Bus worker function; set AAT_QUEUE_KIND to servicebus, ` +
        "AAT_SERVICEBUS_CONNECTION_STRING and AAT_SERVICEBUS_QUEUE to the queue the trigger reads",
    );
  }
  const { ServiceBusQueue } = await import("@aat/adapter-servicebus");
  // Broker-side duplicate detection (messageId) replaces KeyValue dedupe claims.
  return await ServiceBusQueue.connect<WorkMessage>({
    connectionString: queue.servicebus.connectionString,
    name: queue.servicebus.queue,
  });
}
