import type { KeyValue, Queue, WorkMessage } from "@aat/core";

/** Storage calls issued, split into writes and reads (group commit puts many in one transaction). */
export interface OperationCounts {
  writes: number;
  reads: number;
}

const KV_WRITES = new Set(["set", "setIfAbsent", "compareAndSet", "delete", "increment"]);
const KV_READS = new Set(["get", "getMany", "list"]);
const QUEUE_WRITES = new Set(["publish", "receive", "ack", "nack", "extendLease", "deadLetter"]);

/** Wraps a store so every call of the listed methods is counted (one call is one SQL statement). */
function counting<T extends object>(
  target: T,
  writes: Set<string>,
  reads: Set<string>,
  counts: OperationCounts,
): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      if (writes.has(property))
        return (...args: unknown[]) => {
          counts.writes++;
          return value.apply(object, args);
        };
      if (reads.has(property))
        return (...args: unknown[]) => {
          counts.reads++;
          return value.apply(object, args);
        };
      return value.bind(object);
    },
  });
}

export function countingStores(
  kv: KeyValue,
  queue: Queue<WorkMessage>,
): { kv: KeyValue; queue: Queue<WorkMessage>; counts: OperationCounts } {
  const counts: OperationCounts = { writes: 0, reads: 0 };
  return {
    kv: counting(kv, KV_WRITES, KV_READS, counts),
    queue: counting(queue, QUEUE_WRITES, new Set(), counts),
    counts,
  };
}
