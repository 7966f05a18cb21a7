import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KeyValue, KvEntry } from "../ports/kv.js";
import { eventually, uniqueSuffix } from "./contract-helpers.js";

export type KeyValueFactory = () => Promise<{ kv: KeyValue; cleanup?: () => Promise<void> }>;

export interface KeyValueContractSettings {
  /** TTL the expiry tests write with (default 200 ms). Raise it for backends with coarse expiry. */
  ttlMs?: number;
  /** How long to keep polling for something that must eventually happen (default 10 s). */
  patienceMs?: number;
  /** Per-test vitest timeout (default 3 × patienceMs). */
  testTimeoutMs?: number;
}

/**
 * Declares the KeyValue contract suite. Each test gets a fresh `create()`, writes only under its own
 * random prefix, deletes what it wrote, closes the kv, then calls `cleanup` (for what the factory made
 * beside the kv: temp files, tables, connections).
 */
export function keyValueContract(
  name: string,
  create: KeyValueFactory,
  settings: KeyValueContractSettings = {},
): void {
  const ttlMs = settings.ttlMs ?? 200;
  const patienceMs = settings.patienceMs ?? 10_000;
  const timeout = settings.testTimeoutMs ?? patienceMs * 3;

  describe(`KeyValue contract: ${name}`, () => {
    let kv: KeyValue;
    let cleanup: (() => Promise<void>) | undefined;
    let prefix: string;
    const key = (suffix: string) => prefix + suffix;

    beforeEach(async () => {
      const made = await create();
      kv = made.kv;
      cleanup = made.cleanup;
      prefix = `contract-${uniqueSuffix()}/`;
    });

    afterEach(async () => {
      try {
        await deleteEverything(kv, prefix);
        await kv.close();
      } finally {
        await cleanup?.();
      }
    });

    const waitUntilGone = (k: string) =>
      eventually(
        `key ${k} to expire`,
        async () => ((await kv.get(k)) === undefined ? true : undefined),
        patienceMs,
      );

    describe("get and set", () => {
      it(
        "round-trips a value and returns copies, never the stored object",
        async () => {
          const original = { name: "alert", tags: ["a", "b"], nested: { count: 1 } };
          await kv.set(key("doc"), original);
          original.nested.count = 99;
          original.tags.push("mutated");

          const first = await kv.get<typeof original>(key("doc"));
          expect(first?.value).toEqual({ name: "alert", tags: ["a", "b"], nested: { count: 1 } });
          first!.value.nested.count = 42;
          first!.value.tags.length = 0;

          const second = await kv.get<typeof original>(key("doc"));
          expect(second?.value).toEqual({ name: "alert", tags: ["a", "b"], nested: { count: 1 } });
          expect(await kv.get(key("absent"))).toBeUndefined();
        },
        timeout,
      );

      it(
        "starts versions at 1 and adds exactly 1 per write, whatever kind of write",
        async () => {
          expect(await kv.set(key("v"), "a")).toBe(1);
          expect(await kv.set(key("v"), "b")).toBe(2);
          const cas = await kv.compareAndSet(key("v"), "c", 2);
          expect(cas).toEqual({ ok: true, version: 3 });
          await kv.increment(key("n"));
          await kv.increment(key("n"), 2);
          expect(await kv.get(key("v"))).toEqual({ value: "c", version: 3 });
          expect(await kv.get(key("n"))).toEqual({ value: 3, version: 2 });
        },
        timeout,
      );

      it(
        "keeps JSON values faithfully and drops undefined properties",
        async () => {
          const values: Record<string, unknown> = {
            object: {
              nested: { deeper: { list: [1, "two", { three: 3 }, [4]] } },
              empty: {},
              emptyList: [],
            },
            array: [1, -1.5, "x", null, true, false, { a: [] }],
            unicode: 'héllo wörld — 日本語 🌍 \n\t "quoted" \\',
            numbers: [0, -0.25, 1e21, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Math.PI, 0.1 + 0.2],
            string: "",
            number: 12.5,
            zero: 0,
            null: null,
            true: true,
            false: false,
          };
          for (const [suffix, value] of Object.entries(values)) await kv.set(key(suffix), value);
          for (const [suffix, value] of Object.entries(values)) {
            expect((await kv.get(key(suffix)))?.value, suffix).toEqual(value);
          }

          await kv.set(key("sparse"), { kept: 1, dropped: undefined, inner: { alsoDropped: undefined } });
          const sparse = await kv.get<Record<string, unknown>>(key("sparse"));
          expect(sparse?.value).toStrictEqual({ kept: 1, inner: {} });
          expect(Object.keys(sparse!.value)).toEqual(["kept", "inner"]);
        },
        timeout,
      );
    });

    describe("setIfAbsent", () => {
      it(
        "writes only when absent and reports the current entry otherwise",
        async () => {
          expect(await kv.setIfAbsent(key("once"), { by: "first" })).toEqual({ ok: true, version: 1 });
          expect(await kv.setIfAbsent(key("once"), { by: "second" })).toEqual({
            ok: false,
            current: { value: { by: "first" }, version: 1 },
          });
          expect((await kv.get(key("once")))?.value).toEqual({ by: "first" });
        },
        timeout,
      );

      it(
        "succeeds again once the existing key has expired, starting again at version 1",
        async () => {
          await kv.set(key("lease"), "old", { ttlMs });
          await kv.set(key("lease"), "old-again", { ttlMs });
          const early = await kv.setIfAbsent(key("lease"), "new");
          expect(early.ok).toBe(false);
          await waitUntilGone(key("lease"));
          expect(await kv.setIfAbsent(key("lease"), "new")).toEqual({ ok: true, version: 1 });
          expect(await kv.get(key("lease"))).toEqual({ value: "new", version: 1 });
        },
        timeout,
      );

      it(
        "lets exactly one of 50 concurrent callers win",
        async () => {
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, index) => kv.setIfAbsent(key("race"), { winner: index })),
          );
          const winners = results.filter((result) => result.ok);
          expect(winners).toHaveLength(1);
          const stored = await kv.get<{ winner: number }>(key("race"));
          expect(stored?.version).toBe(1);
          for (const result of results) {
            if (!result.ok) expect(result.current?.value).toEqual(stored?.value);
          }
        },
        timeout,
      );
    });

    describe("compareAndSet", () => {
      it(
        "writes at the expected version and reports conflicts with the current entry",
        async () => {
          expect(await kv.compareAndSet(key("c"), "x", 3)).toEqual({ ok: false, current: undefined });
          expect(await kv.compareAndSet(key("c"), "v1", 0)).toEqual({ ok: true, version: 1 });
          expect(await kv.compareAndSet(key("c"), "again", 0)).toEqual({
            ok: false,
            current: { value: "v1", version: 1 },
          });
          expect(await kv.compareAndSet(key("c"), "v2", 1)).toEqual({ ok: true, version: 2 });
          expect(await kv.compareAndSet(key("c"), "stale", 1)).toEqual({
            ok: false,
            current: { value: "v2", version: 2 },
          });
          expect(await kv.get(key("c"))).toEqual({ value: "v2", version: 2 });
        },
        timeout,
      );

      it(
        "serialises 20 concurrent read-modify-write loops to exactly 20 increments",
        async () => {
          await kv.set(key("counter"), { count: 0 });
          const writer = async () => {
            for (let attempt = 0; attempt < 500; attempt++) {
              const current = (await kv.get<{ count: number }>(key("counter")))!;
              const result = await kv.compareAndSet(
                key("counter"),
                { count: current.value.count + 1 },
                current.version,
              );
              if (result.ok) return attempt;
            }
            throw new Error("compareAndSet never succeeded in 500 attempts");
          };
          await Promise.all(Array.from({ length: 20 }, writer));
          expect(await kv.get(key("counter"))).toEqual({ value: { count: 20 }, version: 21 });
        },
        timeout,
      );
    });

    describe("delete", () => {
      it(
        "deletes unconditionally or only at the expected version, and forgets the version",
        async () => {
          expect(await kv.delete(key("missing"))).toBe(false);

          await kv.set(key("d"), 1);
          await kv.set(key("d"), 2);
          expect(await kv.delete(key("d"), { expectedVersion: 1 })).toBe(false);
          expect(await kv.get(key("d"))).toEqual({ value: 2, version: 2 });
          expect(await kv.delete(key("d"), { expectedVersion: 2 })).toBe(true);
          expect(await kv.get(key("d"))).toBeUndefined();
          expect(await kv.delete(key("d"), { expectedVersion: 2 })).toBe(false);

          expect(await kv.set(key("d"), 3)).toBe(1);
          expect(await kv.delete(key("d"))).toBe(true);
          expect(await kv.get(key("d"))).toBeUndefined();
          expect(await kv.delete(key("d"))).toBe(false);
        },
        timeout,
      );
    });

    describe("TTL", () => {
      it(
        "hides an expired key from get, getMany, list, compareAndSet and increment",
        async () => {
          await kv.set(key("short"), "bye", { ttlMs });
          await kv.set(key("counter"), 10, { ttlMs });
          await kv.set(key("stays"), "hi");
          expect((await kv.get(key("short")))?.value).toBe("bye");

          await waitUntilGone(key("short"));
          await waitUntilGone(key("counter"));
          expect(await kv.getMany([key("short"), key("stays")])).toEqual([
            undefined,
            { value: "hi", version: 1 },
          ]);
          expect((await listAll(kv, prefix)).map((entry) => entry.key)).toEqual([key("stays")]);
          expect(await kv.compareAndSet(key("short"), "x", 1)).toEqual({ ok: false, current: undefined });
          expect(await kv.compareAndSet(key("short"), "x", 0)).toEqual({ ok: true, version: 1 });
          expect(await kv.increment(key("counter"), 5)).toBe(5);
        },
        timeout,
      );

      it(
        "clears the expiry when a key is written again without ttlMs",
        async () => {
          await kv.set(key("kept"), "a", { ttlMs });
          await kv.set(key("counted"), 1, { ttlMs });
          await kv.set(key("swapped"), 1, { ttlMs });
          // Written last with the same TTL: once the witness is gone, the others' first TTL has passed too.
          await kv.set(key("witness"), "w", { ttlMs });
          await kv.set(key("kept"), "b");
          await kv.increment(key("counted"));
          await kv.compareAndSet(key("swapped"), 2, 1);
          await waitUntilGone(key("witness"));
          expect(await kv.get(key("kept"))).toEqual({ value: "b", version: 2 });
          expect(await kv.get(key("counted"))).toEqual({ value: 2, version: 2 });
          expect(await kv.get(key("swapped"))).toEqual({ value: 2, version: 2 });
        },
        timeout,
      );

      it(
        "sets a new expiry when a key without one is written with ttlMs",
        async () => {
          await kv.set(key("later"), "a");
          await kv.set(key("later"), "b", { ttlMs });
          await waitUntilGone(key("later"));
        },
        timeout,
      );
    });

    describe("list", () => {
      it(
        "returns only keys under the prefix, in ascending code-unit order",
        async () => {
          const names = ["b/2", "a", "B", "a/", "a0", "Z", "0", "~", "a/b", "b/10", "b/1", "-"];
          const shuffled = [...names].sort(() => Math.random() - 0.5);
          for (const name of shuffled) await kv.set(key(name), name);
          await kv.set(`${prefix.slice(0, -1)}-outside`, "not mine");
          try {
            const all = await listAll(kv, prefix);
            expect(all.map((entry) => entry.key)).toEqual([...names].sort().map(key));
            expect(all[0]).toEqual({ key: key("-"), value: "-", version: 1 });

            const underB = await listAll(kv, key("b/"));
            expect(underB.map((entry) => entry.key)).toEqual([key("b/1"), key("b/10"), key("b/2")]);
            const startingWithA = await listAll(kv, key("a"));
            expect(startingWithA.map((entry) => entry.key)).toEqual(
              [key("a"), key("a/"), key("a/b"), key("a0")].sort(),
            );
          } finally {
            await kv.delete(`${prefix.slice(0, -1)}-outside`);
          }
        },
        timeout,
      );

      it(
        "pages with the cursor through 250 keys at limit 7, each key exactly once",
        async () => {
          const expected: string[] = [];
          for (let index = 0; index < 250; index++)
            expected.push(key(`item/${String(index).padStart(4, "0")}`));
          for (let start = 0; start < expected.length; start += 50) {
            await Promise.all(
              expected.slice(start, start + 50).map((k, offset) => kv.set(k, start + offset)),
            );
          }
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await kv.list<number>(key("item/"), { limit: 7, ...(cursor ? { cursor } : {}) });
            expect(page.entries.length).toBeLessThanOrEqual(7);
            for (const entry of page.entries) {
              expect(entry.value).toBe(expected.indexOf(entry.key));
              expect(entry.version).toBe(1);
            }
            seen.push(...page.entries.map((entry) => entry.key));
            cursor = page.cursor;
            pages++;
            expect(pages, "listing did not terminate").toBeLessThan(1000);
          } while (cursor !== undefined);
          expect(seen).toEqual(expected);
        },
        timeout,
      );

      it(
        "returns an empty page without a cursor for a prefix with no keys",
        async () => {
          await kv.set(key("something"), 1);
          const page = await kv.list(key("nothing-here/"));
          expect(page.entries).toEqual([]);
          expect(page.cursor).toBeUndefined();
        },
        timeout,
      );
    });

    describe("getMany", () => {
      it(
        "returns one slot per requested key, in request order, with holes for absent keys",
        async () => {
          await kv.set(key("one"), { n: 1 });
          await kv.set(key("three"), { n: 3 });
          await kv.set(key("three"), { n: 33 });
          const result = await kv.getMany([key("three"), key("two"), key("one"), key("three")]);
          expect(result).toEqual([
            { value: { n: 33 }, version: 2 },
            undefined,
            { value: { n: 1 }, version: 1 },
            { value: { n: 33 }, version: 2 },
          ]);
          expect(result).toHaveLength(4);
          expect(await kv.getMany([])).toEqual([]);
          const copies = (await kv.getMany<{ n: number }>([key("one")])) as Array<KvEntry<{ n: number }>>;
          copies[0]!.value.n = 100;
          expect((await kv.get(key("one")))?.value).toEqual({ n: 1 });
        },
        timeout,
      );
    });

    describe("increment", () => {
      it(
        "treats an absent key as 0 and adds by (default 1, negatives allowed)",
        async () => {
          expect(await kv.increment(key("i"), 5)).toBe(5);
          expect(await kv.increment(key("i"))).toBe(6);
          expect(await kv.increment(key("i"), -10)).toBe(-4);
          expect((await kv.get(key("i")))?.value).toBe(-4);
          await kv.set(key("preset"), 40);
          expect(await kv.increment(key("preset"), 2)).toBe(42);
        },
        timeout,
      );

      it(
        "applies 50 concurrent increments exactly",
        async () => {
          await Promise.all(Array.from({ length: 50 }, () => kv.increment(key("hits"), 2)));
          expect((await kv.get(key("hits")))?.value).toBe(100);
        },
        timeout,
      );

      it(
        "rejects a key that holds something other than a number, leaving it unchanged",
        async () => {
          await kv.set(key("text"), "abc");
          await expect(kv.increment(key("text"))).rejects.toThrow();
          await kv.set(key("object"), { count: 1 });
          await expect(kv.increment(key("object"))).rejects.toThrow();
          expect(await kv.get(key("text"))).toEqual({ value: "abc", version: 1 });
          expect(await kv.get(key("object"))).toEqual({ value: { count: 1 }, version: 1 });
        },
        timeout,
      );

      it(
        "expires with ttlMs like any other write",
        async () => {
          expect(await kv.increment(key("window"), 1, { ttlMs })).toBe(1);
          await waitUntilGone(key("window"));
          expect(await kv.increment(key("window"))).toBe(1);
        },
        timeout,
      );
    });

    describe("unlisted writes", () => {
      it(
        "keep versions, conditions, reads and deletes exactly as listed writes do",
        async () => {
          const unlisted = { unlisted: true } as const;
          const claim = key("claims/one");
          const counter = key("claims/count");
          try {
            expect(await kv.setIfAbsent(claim, { by: "a" }, unlisted)).toEqual({ ok: true, version: 1 });
            expect(await kv.setIfAbsent(claim, { by: "b" }, unlisted)).toEqual({
              ok: false,
              current: { value: { by: "a" }, version: 1 },
            });
            expect(await kv.compareAndSet(claim, "stale", 0, unlisted)).toMatchObject({ ok: false });
            expect(await kv.compareAndSet(claim, { by: "a", done: true }, 1, unlisted)).toEqual({
              ok: true,
              version: 2,
            });
            expect(await kv.set(claim, "third", unlisted)).toBe(3);
            expect(await kv.increment(counter, 2, unlisted)).toBe(2);
            expect(await kv.increment(counter, 3, unlisted)).toBe(5);
            expect(await kv.getMany([claim, counter])).toEqual([
              { value: "third", version: 3 },
              { value: 5, version: 2 },
            ]);
            expect(await kv.delete(claim, { expectedVersion: 2 })).toBe(false);
            expect(await kv.delete(claim, { expectedVersion: 3 })).toBe(true);
            expect(await kv.get(claim)).toBeUndefined();
            expect(await kv.setIfAbsent(claim, "again", unlisted)).toEqual({ ok: true, version: 1 });

            // Written again without the option, the key is listed like any other.
            expect(await kv.set(claim, "listed now")).toBe(2);
            expect((await listAll(kv, key("claims/"))).map((entry) => entry.key)).toContain(claim);
          } finally {
            // The suite's cleanup lists the prefix, which may not see unlisted keys.
            await kv.delete(claim);
            await kv.delete(counter);
          }
        },
        timeout,
      );

      it(
        "expire with ttlMs, and a later unlisted write without ttlMs clears the expiry",
        async () => {
          const unlisted = { unlisted: true } as const;
          const short = key("claims/short");
          const kept = key("claims/kept");
          try {
            expect(await kv.setIfAbsent(short, "bye", { ttlMs, unlisted: true })).toEqual({
              ok: true,
              version: 1,
            });
            expect(await kv.setIfAbsent(kept, "a", { ttlMs, unlisted: true })).toMatchObject({ ok: true });
            expect(await kv.compareAndSet(kept, "b", 1, unlisted)).toEqual({ ok: true, version: 2 });
            await waitUntilGone(short);
            expect(await kv.setIfAbsent(short, "new", unlisted)).toEqual({ ok: true, version: 1 });
            expect(await kv.get(kept)).toEqual({ value: "b", version: 2 });
          } finally {
            await kv.delete(short);
            await kv.delete(kept);
          }
        },
        timeout,
      );
    });

    it(
      "answers ping",
      async () => {
        await expect(kv.ping()).resolves.toBeUndefined();
      },
      timeout,
    );
  });
}

/** Every entry under the prefix, following cursors (adapters may cap page sizes). */
async function listAll(kv: KeyValue, prefix: string): Promise<Array<{ key: string } & KvEntry>> {
  const entries: Array<{ key: string } & KvEntry> = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await kv.list(prefix, { limit: 100, ...(cursor ? { cursor } : {}) });
    entries.push(...result.entries);
    cursor = result.cursor;
    if (cursor === undefined) return entries;
  }
  throw new Error(`listing ${prefix} did not end after 1000 pages`);
}

async function deleteEverything(kv: KeyValue, prefix: string): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const page = await kv.list(prefix, { limit: 100 });
    if (page.entries.length === 0) return;
    await Promise.all(page.entries.map((entry) => kv.delete(entry.key)));
  }
}
