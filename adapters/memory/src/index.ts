export { MemoryKeyValue, type MemoryKeyValueOptions } from "./memory-key-value.js";
export { MemoryQueue, type MemoryQueueOptions } from "./memory-queue.js";
