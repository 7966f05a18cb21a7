import { ManualClock } from "@aat/core";
import { afterAll, describe, expect, it } from "vitest";
import { deleteNamespace, Namespace, RedisKeyValue, RedisLock } from "../src/index.js";
import { inspector, redisUrl, uniquePrefix } from "./redis-url.js";

const admin = inspector();
const keyPrefix = uniquePrefix("lock");
const namespace = new Namespace(keyPrefix);

afterAll(async () => {
  await deleteNamespace(admin, keyPrefix);
  await admin.quit();
});

describe("RedisLock on a real server", () => {
  it("stores the lease as <token>|<holder> with a PX expiry and keeps the fence counter without one", async () => {
    const lock = await RedisLock.connect({ url: redisUrl, keyPrefix, holder: "replica-a" });
    try {
      const lease = await lock.acquire("reindex", { ttlMs: 30_000 });
      expect(lease?.holder).toBe("replica-a");
      expect(await admin.get(namespace.lease("reindex"))).toBe(`${lease!.token}|replica-a`);
      const left = await admin.pttl(namespace.lease("reindex"));
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(30_000);
      expect(await admin.get(namespace.fence("reindex"))).toBe(String(lease!.token));
      expect(await admin.pttl(namespace.fence("reindex"))).toBe(-1);

      expect(await lock.release(lease!)).toBe(true);
      expect(await admin.exists(namespace.lease("reindex"))).toBe(0);
      expect(await admin.get(namespace.fence("reindex"))).toBe(String(lease!.token));
    } finally {
      await lock.close();
    }
  });

  it("computes expiresAt from its clock and rounds a fractional TTL up to whole milliseconds", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const lock = await RedisLock.connect({ url: redisUrl, keyPrefix, clock });
    try {
      const lease = await lock.acquire("tick", { ttlMs: 1_500.2 });
      expect(lease?.expiresAt).toBe(Date.UTC(2030, 0, 1) + 1_501);
      clock.advance(1_000);
      const renewed = await lock.renew(lease!, 10_000);
      expect(renewed?.expiresAt).toBe(Date.UTC(2030, 0, 1) + 11_000);
      expect(await lock.release(renewed!)).toBe(true);
    } finally {
      await lock.close();
    }
  });

  it("gives one lease to one of 50 acquirers spread over 5 connections", async () => {
    const locks = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        RedisLock.connect({ url: redisUrl, keyPrefix, holder: `replica-${index}` }),
      ),
    );
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          locks[index % 5]!.acquire("schedule/tick", { ttlMs: 30_000 }),
        ),
      );
      const winners = results.filter((lease) => lease !== undefined);
      expect(winners).toHaveLength(1);
      // Failed attempts use up no token.
      expect(winners[0]!.token).toBe(1);
    } finally {
      await Promise.all(locks.map((lock) => lock.close()));
    }
  });

  it("shares a namespace with RedisKeyValue without their keys colliding", async () => {
    const lock = await RedisLock.connect({ url: redisUrl, keyPrefix });
    const kv = await RedisKeyValue.connect({ url: redisUrl, keyPrefix });
    try {
      await kv.set("same-name", "value");
      const lease = await lock.acquire("same-name", { ttlMs: 30_000 });
      expect(lease).toBeDefined();
      expect((await kv.get("same-name"))?.value).toBe("value");
      expect(await lock.release(lease!)).toBe(true);
      expect((await kv.get("same-name"))?.value).toBe("value");
      await kv.delete("same-name");
    } finally {
      await lock.close();
      await kv.close();
    }
  });

  it("refuses a lease object it could not have issued", async () => {
    const lock = await RedisLock.connect({ url: redisUrl, keyPrefix });
    try {
      await expect(lock.release({ key: "x", token: 0, expiresAt: 0, holder: "h" })).rejects.toThrow(
        /pass the lease acquire returned/,
      );
      await expect(lock.renew({ key: "x" } as never, 1_000)).rejects.toThrow(/token/);
    } finally {
      await lock.close();
    }
  });
});
