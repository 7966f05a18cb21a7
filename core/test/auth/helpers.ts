import { MemoryKeyValue } from "@aat/adapter-memory";
import { expect } from "vitest";
import { ApiKeyStore, AuditLog, ManualClock } from "../../src/index.js";
import type { KeyValue } from "../../src/ports/kv.js";

export function authFixture() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const kv = new MemoryKeyValue({ clock });
  const store = new ApiKeyStore(kv, clock);
  const log = new AuditLog(kv, clock);
  return { clock, kv, store, log };
}

/**
 * Wraps a KeyValue so each call yields to the event loop a random number of times first: concurrent
 * callers then really interleave instead of running one after the other.
 */
export function interleaving(inner: KeyValue): KeyValue {
  const pause = async () => {
    const ticks = Math.floor(Math.random() * 4);
    for (let tick = 0; tick < ticks; tick++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await pause();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return (await response.json()) as Record<string, unknown>;
}
