import { ManualClock } from "@aat/core";
import { describe, expect, it } from "vitest";
import { MemoryKeyValue } from "../src/index.js";

describe("MemoryKeyValue on a manual clock", () => {
  it("expires a key exactly when its TTL has elapsed on the injected clock", async () => {
    const clock = new ManualClock();
    const kv = new MemoryKeyValue({ clock });
    await kv.set("k", "v", { ttlMs: 1000 });
    clock.advance(999);
    expect(await kv.get("k")).toEqual({ value: "v", version: 1 });
    clock.advance(1);
    expect(await kv.get("k")).toBeUndefined();
    expect(await kv.setIfAbsent("k", "again")).toEqual({ ok: true, version: 1 });
  });

  it("pages correctly when expired keys sit between live ones", async () => {
    const clock = new ManualClock();
    const kv = new MemoryKeyValue({ clock });
    for (let index = 0; index < 20; index++) {
      await kv.set(`p/${String(index).padStart(2, "0")}`, index, index % 2 === 0 ? { ttlMs: 10 } : {});
    }
    clock.advance(10);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await kv.list<number>("p/", { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((entry) => entry.value));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it("sweeps expired entries out of memory", async () => {
    const clock = new ManualClock();
    const kv = new MemoryKeyValue({ clock });
    for (let index = 0; index < 100; index++) await kv.set(`t/${index}`, index, { ttlMs: 5 });
    await kv.set("kept", 1);
    clock.advance(5);
    expect(kv.size).toBe(1);
    expect(kv.retainedCount).toBe(101);
    kv.sweepExpired();
    expect(kv.retainedCount).toBe(1);
    expect((await kv.list("")).entries.map((entry) => entry.key)).toEqual(["kept"]);
    // Writes trigger the sweep by themselves once enough have happened.
    for (let index = 0; index < 2000; index++) await kv.set(`u/${index}`, index, { ttlMs: 1 });
    clock.advance(1);
    expect(kv.retainedCount).toBe(2001);
    for (let index = 0; index < 2100; index++) await kv.set("churn", index);
    expect(kv.size).toBe(2);
    expect(kv.retainedCount).toBe(2);
  });
});

describe("MemoryKeyValue input checks", () => {
  it("rejects values JSON cannot hold, saying which call and why", async () => {
    const kv = new MemoryKeyValue();
    await expect(kv.set("k", undefined)).rejects.toThrow(/set\("k"\): the value is undefined/);
    await expect(kv.set("k", { n: 1n })).rejects.toThrow(/not JSON-serialisable/);
    await expect(kv.setIfAbsent("k", () => 1)).rejects.toThrow(/setIfAbsent\("k"\): the value is function/);
  });

  it("rejects bad keys, TTLs, versions, limits and cursors", async () => {
    const kv = new MemoryKeyValue();
    await expect(kv.set("", 1)).rejects.toThrow(/key must be a non-empty string/);
    await expect(kv.set("k", 1, { ttlMs: 0 })).rejects.toThrow(/ttlMs must be a positive number/);
    await expect(kv.compareAndSet("k", 1, -1)).rejects.toThrow(/expectedVersion must be an integer >= 0/);
    await expect(kv.delete("k", { expectedVersion: 1.5 })).rejects.toThrow(/expectedVersion/);
    await expect(kv.list("a/", { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
    await expect(kv.increment("k", Number.NaN)).rejects.toThrow(/by must be a finite number/);
    await kv.set("a/1", 1);
    await kv.set("a/2", 2);
    const page = await kv.list("a/", { limit: 1 });
    await expect(kv.list("b/", { cursor: page.cursor! })).rejects.toThrow(
      /was not returned by a listing of prefix "b\/"/,
    );
    await expect(kv.list("a/", { cursor: "%%%" })).rejects.toThrow(/cursor/);
    expect(() => new MemoryKeyValue({ defaultListLimit: 0 })).toThrow(/MemoryKeyValue options are invalid/);
  });

  it("names the stored type when increment meets a non-number", async () => {
    const kv = new MemoryKeyValue();
    await kv.set("k", { count: 1 });
    await expect(kv.increment("k")).rejects.toThrow(/stored value is object, not a number/);
  });

  it("refuses every call after close", async () => {
    const kv = new MemoryKeyValue();
    await kv.close();
    await expect(kv.get("k")).rejects.toThrow(/MemoryKeyValue is closed/);
    await expect(kv.ping()).rejects.toThrow(/closed/);
  });
});
