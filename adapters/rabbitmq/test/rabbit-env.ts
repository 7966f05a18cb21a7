import { MemoryKeyValue } from "@aat/adapter-memory";
import { uniqueSuffix } from "@aat/core/testing";
import { RabbitQueue, type RabbitQueueOptions } from "../src/index.js";

export const rabbitUrl = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

/** A queue on a fresh name, with a memory KeyValue for dedupe, and a cleanup deleting its broker objects. */
export async function openTestQueue<T = unknown>(
  options: Partial<RabbitQueueOptions> = {},
): Promise<{ queue: RabbitQueue<T>; name: string; cleanup: () => Promise<void> }> {
  const name = options.name ?? `aat-test-${uniqueSuffix()}`;
  const queue = await RabbitQueue.connect<T>({ url: rabbitUrl, kv: new MemoryKeyValue(), ...options, name });
  const cleanup = async () => {
    await queue.close();
    await RabbitQueue.destroy({
      url: rabbitUrl,
      name,
      ...(options.delayLevels !== undefined ? { delayLevels: options.delayLevels } : {}),
    });
  };
  return { queue, name, cleanup };
}
