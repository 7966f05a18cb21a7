import { ForwardingQueue } from "@aat/core/ports";
import { keyValueContract, lockContract, queueContract } from "@aat/core/testing";
import { MemoryKeyValue, MemoryLock, MemoryQueue } from "../src/index.js";

keyValueContract("MemoryKeyValue", async () => ({ kv: new MemoryKeyValue() }));

queueContract("MemoryQueue", async (options) => ({ queue: new MemoryQueue(options) }), { depth: true });

// The base of every queue decorator must keep a queue's whole contract, depth included.
queueContract(
  "ForwardingQueue over MemoryQueue",
  async (options) => ({ queue: new ForwardingQueue(new MemoryQueue(options)) }),
  { depth: true },
);

lockContract("MemoryLock", async () => ({ lock: new MemoryLock() }));

// A small page cap must not break paging: the suite accepts pages shorter than the limit it asked for.
keyValueContract("MemoryKeyValue with list pages capped at 3", async () => ({
  kv: new MemoryKeyValue({ maxListLimit: 3 }),
}));
