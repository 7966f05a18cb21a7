import type { KeyValue, Queue, WorkMessage } from "@aat/core";

/** Calls per method name, e.g. `kv.setIfAbsent` or `queue.publish`. */
export type CallCounts = Map<string, number>;

const KV_METHODS = new Set([
  "get",
  "getMany",
  "list",
  "set",
  "setIfAbsent",
  "compareAndSet",
  "delete",
  "increment",
]);
const QUEUE_METHODS = new Set(["publish", "receive", "ack", "nack", "extendLease", "deadLetter"]);

function counting<T extends object>(target: T, side: string, methods: Set<string>, counts: CallCounts): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      if (!methods.has(property)) return value.bind(object);
      const name = `${side}.${property}`;
      return (...args: unknown[]) => {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return value.apply(object, args);
      };
    },
  });
}

/** Wraps the stores so every KeyValue and queue call is counted by method: each is one round trip. */
export function countingStores(kv: KeyValue, queue: Queue<WorkMessage>) {
  const counts: CallCounts = new Map();
  return {
    kv: counting(kv, "kv", KV_METHODS, counts),
    queue: counting(queue, "queue", QUEUE_METHODS, counts),
    counts,
  };
}

export function total(counts: CallCounts, side: "kv" | "queue", only?: readonly string[]): number {
  let sum = 0;
  for (const [name, n] of counts) {
    if (!name.startsWith(`${side}.`)) continue;
    if (only && !only.includes(name.slice(side.length + 1))) continue;
    sum += n;
  }
  return sum;
}
