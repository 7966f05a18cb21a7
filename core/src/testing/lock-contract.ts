import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Lease, Lock } from "../ports/lock.js";
import { eventually, sleep, uniqueSuffix } from "./contract-helpers.js";

export type LockFactory = () => Promise<{ lock: Lock; cleanup?: () => Promise<void> }>;

export interface LockContractSettings {
  /** Lease length the expiry tests use (default 300 ms). Raise it for backends with coarse expiry. */
  ttlMs?: number;
  /** How long to keep polling for something that must eventually happen (default 10 s). */
  patienceMs?: number;
  /** Per-test vitest timeout (default 3 × patienceMs). */
  testTimeoutMs?: number;
}

/**
 * Declares the Lock contract suite. Each test gets a fresh `create()`, uses keys under its own random
 * prefix, and calls `cleanup` afterwards (close connections; fence counters may stay, by design).
 */
export function lockContract(name: string, create: LockFactory, settings: LockContractSettings = {}): void {
  const ttlMs = settings.ttlMs ?? 300;
  const patienceMs = settings.patienceMs ?? 10_000;
  const timeout = settings.testTimeoutMs ?? patienceMs * 3;

  describe(`Lock contract: ${name}`, () => {
    let lock: Lock;
    let cleanup: (() => Promise<void>) | undefined;
    let prefix: string;
    const key = (suffix: string) => prefix + suffix;

    beforeEach(async () => {
      const made = await create();
      lock = made.lock;
      cleanup = made.cleanup;
      prefix = `lock-contract-${uniqueSuffix()}/`;
    });

    afterEach(async () => {
      await cleanup?.();
    });

    /** Acquires once the current lease has lapsed; polling never asserts how long that took. */
    const acquireAfterExpiry = (k: string, holder: string) =>
      eventually(
        `lease ${k} to expire so ${holder} can take it`,
        () => lock.acquire(k, { ttlMs, holder }),
        patienceMs,
      );

    it(
      "gives the lease to exactly one of 50 concurrent acquirers and describes it",
      async () => {
        const before = Date.now();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            lock.acquire(key("race"), { ttlMs: 60_000, holder: `h${index}` }),
          ),
        );
        const after = Date.now();
        const winners = results.filter((lease): lease is Lease => lease !== undefined);
        expect(winners).toHaveLength(1);
        const [lease] = winners;
        expect(lease!.key).toBe(key("race"));
        expect(lease!.holder).toBe(`h${results.indexOf(lease)}`);
        expect(Number.isInteger(lease!.token) && lease!.token > 0).toBe(true);
        expect(lease!.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
        expect(lease!.expiresAt).toBeLessThanOrEqual(after + 60_000);
        expect(await lock.acquire(key("race"), { ttlMs: 60_000, holder: "late" })).toBeUndefined();
        expect(await lock.release(lease!)).toBe(true);
      },
      timeout,
    );

    it(
      "keeps leases of different keys independent",
      async () => {
        const a = await lock.acquire(key("a"), { ttlMs: 60_000, holder: "one" });
        const b = await lock.acquire(key("b"), { ttlMs: 60_000, holder: "one" });
        expect(a).toBeDefined();
        expect(b).toBeDefined();
        expect(await lock.release(a!)).toBe(true);
        expect(await lock.acquire(key("b"), { ttlMs: 60_000, holder: "two" })).toBeUndefined();
        expect(await lock.release(b!)).toBe(true);
      },
      timeout,
    );

    it(
      "issues strictly increasing tokens across release, expiry and concurrent rounds",
      async () => {
        const tokens: number[] = [];
        const first = await lock.acquire(key("fenced"), { ttlMs: 60_000, holder: "first" });
        tokens.push(first!.token);
        expect(await lock.release(first!)).toBe(true);

        const second = await lock.acquire(key("fenced"), { ttlMs, holder: "second" });
        tokens.push(second!.token);
        const third = await acquireAfterExpiry(key("fenced"), "third");
        tokens.push(third.token);
        expect(await lock.release(third)).toBe(true);

        for (let round = 0; round < 5; round++) {
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, index) =>
              lock.acquire(key("fenced"), { ttlMs: 60_000, holder: `r${round}-${index}` }),
            ),
          );
          const winners = results.filter((lease): lease is Lease => lease !== undefined);
          expect(winners, `round ${round}`).toHaveLength(1);
          tokens.push(winners[0]!.token);
          expect(await lock.release(winners[0]!)).toBe(true);
        }
        for (let index = 1; index < tokens.length; index++) {
          expect(tokens[index], `token ${index} after ${tokens.join(", ")}`).toBeGreaterThan(
            tokens[index - 1]!,
          );
        }
      },
      timeout,
    );

    it(
      "frees the lease on release, for anyone to take at once",
      async () => {
        const lease = await lock.acquire(key("r"), { ttlMs: 60_000, holder: "one" });
        expect(await lock.release(lease!)).toBe(true);
        const next = await lock.acquire(key("r"), { ttlMs: 60_000, holder: "two" });
        expect(next?.holder).toBe("two");
        expect(await lock.release(lease!)).toBe(false);
        expect(await lock.renew(lease!, 60_000)).toBeUndefined();
        expect(await lock.release(next!)).toBe(true);
        expect(await lock.release(next!)).toBe(false);
      },
      timeout,
    );

    it(
      "lets another holder acquire once the lease expires",
      async () => {
        const lease = await lock.acquire(key("e"), { ttlMs, holder: "one" });
        expect(lease).toBeDefined();
        expect(await lock.acquire(key("e"), { ttlMs, holder: "two" })).toBeUndefined();
        const next = await acquireAfterExpiry(key("e"), "two");
        expect(next.holder).toBe("two");
        expect(next.token).toBeGreaterThan(lease!.token);
      },
      timeout,
    );

    it(
      "keeps the lease past its first expiry when renewed, with the same token",
      async () => {
        const lease = await lock.acquire(key("renewed"), { ttlMs, holder: "one" });
        const renewed = await lock.renew(lease!, ttlMs * 20);
        expect(renewed, "renewing right after acquiring must succeed").toBeDefined();
        expect(renewed!.token).toBe(lease!.token);
        expect(renewed!.key).toBe(lease!.key);
        expect(renewed!.holder).toBe("one");
        expect(renewed!.expiresAt).toBeGreaterThan(lease!.expiresAt);

        await sleep(ttlMs * 3);
        expect(await lock.acquire(key("renewed"), { ttlMs, holder: "two" })).toBeUndefined();
        expect(await lock.renew(renewed!, ttlMs * 20)).toBeDefined();
        expect(await lock.release(renewed!)).toBe(true);
        expect(await lock.acquire(key("renewed"), { ttlMs, holder: "two" })).toBeDefined();
      },
      timeout,
    );

    it(
      "refuses renew and release to a stale holder whose lease expired and was taken",
      async () => {
        const stale = await lock.acquire(key("s"), { ttlMs, holder: "stale" });
        const current = await acquireAfterExpiry(key("s"), "current");
        expect(await lock.renew(stale!, 60_000)).toBeUndefined();
        expect(await lock.release(stale!)).toBe(false);
        // The current holder is untouched by the stale one's attempts.
        expect(await lock.acquire(key("s"), { ttlMs, holder: "third" })).toBeUndefined();
        const forged = { ...current, token: stale!.token };
        expect(await lock.release(forged)).toBe(false);
        expect(await lock.renew(current, 60_000)).toBeDefined();
        expect(await lock.release(current)).toBe(true);
      },
      timeout,
    );

    it(
      "rejects an empty key and a TTL that is not positive",
      async () => {
        await expect(lock.acquire("", { ttlMs })).rejects.toThrow();
        await expect(lock.acquire(key("bad"), { ttlMs: 0 })).rejects.toThrow();
        await expect(lock.acquire(key("bad"), { ttlMs: -5 })).rejects.toThrow();
        const lease = await lock.acquire(key("bad"), { ttlMs: 60_000 });
        await expect(lock.renew(lease!, 0)).rejects.toThrow();
        expect(await lock.release(lease!)).toBe(true);
      },
      timeout,
    );
  });
}
