export { MemoryKeyValue, type MemoryKeyValueOptions } from "./memory-key-value.js";
export { MemoryLock, type MemoryLockOptions } from "./memory-lock.js";
export { MemoryQueue, type MemoryQueueOptions } from "./memory-queue.js";
