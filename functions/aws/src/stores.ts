import type { SqsLambdaRecord } from "@aat/adapter-sqs/lambda";
import type { AatConfig } from "@aat/core/config";
import type { KeyValue, Queue, QueueMessage } from "@aat/core/ports";
import type { WorkMessage } from "@aat/core/runner";

/** A store kind a Lambda cannot use: the message names the setting and the kinds that work. */
export class LambdaBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LambdaBackendError";
  }
}

export interface LambdaStores {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  /**
   * Turns a record the event source mapping received into a delivery, exactly as the queue's own
   * receive does (claim check, not-before delays, delivery count, dead letters); undefined when the
   * adapter handled it itself. SqsQueue.decodeLambdaRecord in production.
   */
  decode(record: SqsLambdaRecord): Promise<QueueMessage<WorkMessage> | undefined>;
  description: string;
  close(): Promise<void>;
}

/**
 * The KeyValue store and the step queue of a Lambda container, from the configuration. Each adapter is
 * imported only when configured, so a bundle loads (and a cold start pays for) only the SDKs it uses.
 * Lambda has no disk that outlives the container: kv must be dynamodb or upstash, queue must be sqs.
 */
export async function openLambdaStores(config: AatConfig): Promise<LambdaStores> {
  const kv = await openKeyValue(config);
  try {
    const queue = await openQueue(config, kv);
    return {
      kv,
      queue,
      // The event source mapping hands the worker what ReceiveMessage would have: the adapter decodes it.
      decode: (record) => queue.decodeLambdaRecord(record),
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
    case "dynamodb": {
      const { DynamoKeyValue, dynamoOptionsFromSettings } = await import("@aat/adapter-dynamodb");
      return await DynamoKeyValue.connect(dynamoOptionsFromSettings(kv.dynamodb));
    }
    case "upstash": {
      const { UpstashKeyValue } = await import("@aat/adapter-upstash");
      return await UpstashKeyValue.connect({ url: kv.upstash.url, token: kv.upstash.token });
    }
    default:
      throw new LambdaBackendError(
        `kv kind "${kv.kind}" cannot hold state on AWS Lambda (nothing on a function's disk survives the ` +
          "container); set AAT_KV_KIND to dynamodb (with AAT_DYNAMODB_TABLE) or upstash (with AAT_UPSTASH_URL and AAT_UPSTASH_TOKEN)",
      );
  }
}

async function openQueue(config: AatConfig, kv: KeyValue) {
  const queue = config.queue;
  if (queue.kind !== "sqs") {
    throw new LambdaBackendError(
      `queue kind "${queue.kind}" cannot trigger the Lambda worker; set AAT_QUEUE_KIND to sqs and AAT_SQS_QUEUE_URL to the queue ` +
        "the worker function's event source mapping reads",
    );
  }
  const { SqsQueue, sqsOptionsFromSettings } = await import("@aat/adapter-sqs");
  return await SqsQueue.connect<WorkMessage>({
    name: sqsQueueName(queue.sqs.queueUrl, queue.sqs.fifo),
    ...sqsOptionsFromSettings(queue.sqs),
    // Standard queues have no broker dedupe: publish dedupe claims live in the same KeyValue store.
    kv,
  });
}

/** The queue name in an SQS URL (https://sqs.<region>.amazonaws.com/<account>/<name>), without ".fifo". */
export function sqsQueueName(queueUrl: string, fifo: boolean): string {
  const last = new URL(queueUrl).pathname.split("/").filter(Boolean).at(-1) ?? "";
  const name = fifo ? last.replace(/\.fifo$/, "") : last;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new LambdaBackendError(
      `AAT_SQS_QUEUE_URL ${queueUrl} does not end in an SQS queue name (letters, digits, - and _${fifo ? ', then ".fifo"' : ""})`,
    );
  }
  return name;
}
