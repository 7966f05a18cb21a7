import { ManualClock } from "@aat/core";
import { describe, expect, it } from "vitest";
import { MemoryLock } from "../src/index.js";

describe("MemoryLock", () => {
  it("ends a lease on the injected clock and keeps raising tokens", async () => {
    const clock = new ManualClock(1_000);
    const lock = new MemoryLock({ clock });
    const first = await lock.acquire("tick", { ttlMs: 100, holder: "a" });
    expect(first).toEqual({ key: "tick", token: 1, expiresAt: 1_100, holder: "a" });

    clock.advance(99);
    expect(await lock.acquire("tick", { ttlMs: 100, holder: "b" })).toBeUndefined();
    clock.advance(1);
    const second = await lock.acquire("tick", { ttlMs: 100, holder: "b" });
    expect(second).toEqual({ key: "tick", token: 2, expiresAt: 1_200, holder: "b" });
  });

  it("does not renew a lease that lapsed, even when nobody took it", async () => {
    const clock = new ManualClock(0);
    const lock = new MemoryLock({ clock });
    const lease = await lock.acquire("job", { ttlMs: 50 });
    clock.advance(30);
    expect(await lock.renew(lease!, 50)).toEqual({ ...lease, expiresAt: 80 });
    clock.advance(50);
    expect(await lock.renew(lease!, 50)).toBeUndefined();
    expect(await lock.release(lease!)).toBe(false);
  });

  it("uses the configured default holder and refuses leases it did not issue", async () => {
    const lock = new MemoryLock({ holder: "replica-1" });
    const lease = await lock.acquire("k", { ttlMs: 1_000 });
    expect(lease?.holder).toBe("replica-1");
    expect(await lock.release({ ...lease!, holder: "replica-2" })).toBe(false);
    await expect(lock.release({ key: "k" } as never)).rejects.toThrow(/pass the lease acquire returned/);
  });

  it("names the bad option", () => {
    expect(() => new MemoryLock({ clock: {} as never })).toThrow(/clock must be an object with a now/);
    expect(() => new MemoryLock({ ttl: 5 } as never)).toThrow(/MemoryLock options are invalid/);
  });
});
