import { MemoryKeyValue } from "@aat/adapter-memory";
import { queueContract } from "@aat/core/testing";
import { RabbitQueue } from "../src/index.js";
import { rabbitUrl } from "./rabbit-env.js";

queueContract("RabbitQueue", async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
  const queue = await RabbitQueue.connect({
    url: rabbitUrl,
    name,
    visibilityTimeoutMs,
    maxDeliveries,
    kv: new MemoryKeyValue(),
  });
  return { queue, cleanup: () => RabbitQueue.destroy({ url: rabbitUrl, name }) };
});
