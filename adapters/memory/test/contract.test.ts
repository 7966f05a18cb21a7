import { keyValueContract, lockContract, queueContract } from "@aat/core/testing";
import { MemoryKeyValue, MemoryLock, MemoryQueue } from "../src/index.js";

keyValueContract("MemoryKeyValue", async () => ({ kv: new MemoryKeyValue() }));

queueContract("MemoryQueue", async (options) => ({ queue: new MemoryQueue(options) }), { depth: true });

lockContract("MemoryLock", async () => ({ lock: new MemoryLock() }));

// A small page cap must not break paging: the suite accepts pages shorter than the limit it asked for.
keyValueContract("MemoryKeyValue with list pages capped at 3", async () => ({
  kv: new MemoryKeyValue({ maxListLimit: 3 }),
}));
