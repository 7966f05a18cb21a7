import { SpanKind } from "@opentelemetry/api";
import type { KeyValue } from "../ports/kv.js";
import type { Queue } from "../ports/queue.js";
import { inSpan, recording } from "./tracing.js";

const KV_CALLS = ["get", "getMany", "set", "setIfAbsent", "compareAndSet", "delete", "list", "increment"];
const QUEUE_CALLS = [
  "publish",
  "ack",
  "nack",
  "extendLease",
  "deadLetter",
  "listDeadLetters",
  "redrive",
  "depth",
];

/**
 * The KeyValue store with a client span `kv.<call>` around each call made inside a recording span (a
 * step, a request); calls outside one (background loops) pass straight through. Wrap only when tracing
 * is on: the wrapper itself costs a property lookup per call.
 */
export function traceKeyValue(kv: KeyValue, system: string): KeyValue {
  return traced(kv, "kv", KV_CALLS, { "db.system.name": system });
}

/** The Queue with a client span `queue.<call>` around each call made inside a recording span. */
export function traceQueue<T>(queue: Queue<T>, system: string): Queue<T> {
  return traced(queue, "queue", QUEUE_CALLS, {
    "messaging.system": system,
    "messaging.destination.name": queue.name,
  });
}

function traced<T extends object>(
  target: T,
  prefix: string,
  calls: readonly string[],
  attributes: Record<string, string>,
): T {
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") return value;
      const name = String(property);
      let wrapper = wrappers.get(name);
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = calls.includes(name)
          ? (...args: unknown[]) =>
              recording()
                ? inSpan(`${prefix}.${name}`, { kind: SpanKind.CLIENT, attributes }, async () =>
                    method.apply(object, args),
                  )
                : method.apply(object, args)
          : (...args: unknown[]) => method.apply(object, args);
        wrappers.set(name, wrapper);
      }
      return wrapper;
    },
  });
}
