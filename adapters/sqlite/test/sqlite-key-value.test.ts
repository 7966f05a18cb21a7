import { ManualClock } from "@aat/core";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase, SqliteKeyValue } from "../src/index.js";
import { makeTempDir } from "./temp-dir.js";

/** Every entry under the prefix, following cursors. */
async function listAll(kv: SqliteKeyValue, prefix: string, limit = 3): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list(prefix, { limit, ...(cursor ? { cursor } : {}) });
    keys.push(...page.entries.map((entry) => entry.key));
    cursor = page.cursor;
  } while (cursor !== undefined);
  return keys;
}

/** Unicode code point order: what SQLite's BINARY collation gives for UTF-8 text. */
const byCodePoint = (a: string, b: string) => {
  const left = Array.from(a, (char) => char.codePointAt(0)!);
  const right = Array.from(b, (char) => char.codePointAt(0)!);
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    if (left[index] !== right[index]) return left[index]! - right[index]!;
  }
  return left.length - right.length;
};

describe("SqliteKeyValue", () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = openSqlite(":memory:");
  });
  afterEach(() => db.close());

  describe("list", () => {
    // Characters at the edges of the code point ranges a prefix bound can get wrong.
    const edgeKeys = [
      "p",
      "p\u0000",
      "p\u0000z",
      "pa",
      "p\u007f",
      "p\u0080",
      "p\uD7FF",
      "p\uD7FFx",
      "p\uE000",
      "p\uFFFF",
      "p\uFFFFz",
      "p\u{10000}",
      "p\u{1F30D}",
      "p\u{10FFFF}",
      "p\u{10FFFF}\u{10FFFF}",
      "p\u{10FFFF}a",
      "q",
      "o\u{10FFFF}",
      "\u{10FFFF}",
      "\u{10FFFF}\u{10FFFF}x",
    ];

    it("returns exactly the keys starting with the prefix, for prefixes ending in edge characters", async () => {
      const kv = new SqliteKeyValue(db, { purgeIntervalMs: 0 });
      for (const key of edgeKeys) await kv.set(key, key);
      const prefixes = [
        "",
        "p",
        "p\u0000",
        "p\uD7FF",
        "p\uFFFF",
        "p\u{10FFFF}",
        "p\u{10FFFF}\u{10FFFF}",
        "\u{10FFFF}",
        "o",
      ];
      for (const prefix of prefixes) {
        const expected = edgeKeys.filter((key) => key.startsWith(prefix)).sort(byCodePoint);
        expect(await listAll(kv, prefix), JSON.stringify(prefix)).toEqual(expected);
      }
      await kv.close();
    });

    it("matches a brute-force prefix filter for random keys and prefixes", async () => {
      const alphabet = ["a", "b", "\u0000", "\uD7FF", "\uE000", "\uFFFF", "\u{10000}", "\u{10FFFF}"];
      const text = fc.array(fc.constantFrom(...alphabet), { maxLength: 4 }).map((chars) => chars.join(""));
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(
            text.filter((key) => key.length > 0),
            { maxLength: 25 },
          ),
          text,
          async (keys, prefix) => {
            const namespace = `property-${Math.random()}`;
            const kv = new SqliteKeyValue(db, { namespace, purgeIntervalMs: 0 });
            for (const key of keys) await kv.set(key, 1);
            const expected = keys.filter((key) => key.startsWith(prefix)).sort(byCodePoint);
            expect(await listAll(kv, prefix, 2)).toEqual(expected);
            await kv.close();
          },
        ),
        { numRuns: 150 },
      );
    });

    it("keeps namespaces apart in one file", async () => {
      const runs = new SqliteKeyValue(db, { namespace: "runs" });
      const keys = new SqliteKeyValue(db, { namespace: "keys" });
      await runs.set("a", 1);
      await keys.set("a", 2);
      await keys.set("b", 3);
      expect(await runs.get("a")).toEqual({ value: 1, version: 1 });
      expect(await keys.get("a")).toEqual({ value: 2, version: 1 });
      expect(await listAll(runs, "")).toEqual(["a"]);
      expect(await listAll(keys, "")).toEqual(["a", "b"]);
      expect(await runs.delete("b")).toBe(false);
      await runs.close();
      await keys.close();
    });

    it("refuses a cursor from another prefix or a made-up one", async () => {
      const kv = new SqliteKeyValue(db);
      for (const key of ["a/1", "a/2", "b/1", "b/2"]) await kv.set(key, 1);
      const page = await kv.list("a/", { limit: 1 });
      expect(page.cursor).toBeDefined();
      await expect(kv.list("b/", { cursor: page.cursor! })).rejects.toThrow(
        /was not returned by a listing of prefix "b\/"/,
      );
      await expect(kv.list("a/", { cursor: "!!not-a-cursor" })).rejects.toThrow(
        /pass the cursor from the previous page/,
      );
      await expect(kv.list("a/", { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
      await kv.close();
    });
  });

  describe("expiry on a manual clock", () => {
    it("hides expired keys at once and purges their rows when asked", async () => {
      const clock = new ManualClock();
      const kv = new SqliteKeyValue(db, { clock, purgeIntervalMs: 0 });
      await kv.set("short", 1, { ttlMs: 1000 });
      await kv.set("long", 2, { ttlMs: 5000 });
      await kv.set("forever", 3);
      const rows = () => (db.connection.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number }).n;

      clock.advance(999);
      expect(await kv.get("short")).toEqual({ value: 1, version: 1 });
      clock.advance(1);
      expect(await kv.get("short")).toBeUndefined();
      expect(await kv.getMany(["short", "long", "forever"])).toEqual([
        undefined,
        { value: 2, version: 1 },
        { value: 3, version: 1 },
      ]);
      expect(rows()).toBe(3);
      expect(kv.purgeExpired()).toBe(1);
      expect(rows()).toBe(2);
      clock.advance(10_000);
      expect(kv.purgeExpired()).toBe(1);
      expect(await listAll(kv, "")).toEqual(["forever"]);
      await kv.close();
    });

    it("purges in the background every purgeIntervalMs", async () => {
      const clock = new ManualClock();
      const kv = new SqliteKeyValue(db, { clock, purgeIntervalMs: 20 });
      await kv.set("gone", 1, { ttlMs: 10 });
      clock.advance(10);
      const rows = () => (db.connection.prepare("SELECT COUNT(*) AS n FROM kv").get() as { n: number }).n;
      for (let attempt = 0; attempt < 200 && rows() > 0; attempt++)
        await new Promise((r) => setTimeout(r, 10));
      expect(rows()).toBe(0);
      await kv.close();
    });

    it("purges more rows than one batch holds", async () => {
      const clock = new ManualClock();
      const kv = new SqliteKeyValue(db, { clock, purgeIntervalMs: 0 });
      for (let index = 0; index < 1234; index++) await kv.set(`k/${index}`, index, { ttlMs: 1 });
      clock.advance(1);
      expect(kv.purgeExpired()).toBe(1234);
      await kv.close();
    });
  });

  describe("two handles on one file", () => {
    let dir: ReturnType<typeof makeTempDir>;
    beforeEach(() => {
      dir = makeTempDir("kv");
    });
    afterEach(() => dir.remove());

    it("gives a contended setIfAbsent to exactly one handle and shows the winner to the other", async () => {
      const one = openSqlite(dir.file("aat.db"));
      const two = openSqlite(dir.file("aat.db"));
      try {
        const kvs = [new SqliteKeyValue(one), new SqliteKeyValue(two)];
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, index) => kvs[index % 2]!.setIfAbsent("claim", { by: index % 2 })),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(1);
        const winner = await kvs[1]!.get("claim");
        expect(winner?.version).toBe(1);
        for (const result of results) if (!result.ok) expect(result.current).toEqual(winner);
        // A write through one handle is a conflict for a stale version through the other.
        await kvs[0]!.set("claim", { by: "rewrite" });
        expect(await kvs[1]!.compareAndSet("claim", "stale", 1)).toEqual({
          ok: false,
          current: { value: { by: "rewrite" }, version: 2 },
        });
        for (const kv of kvs) await kv.close();
      } finally {
        one.close();
        two.close();
      }
    });
  });

  describe("bad data and bad input", () => {
    it("names the key, namespace and file when a stored value is not JSON", async () => {
      const kv = new SqliteKeyValue(db, { namespace: "runs" });
      await kv.set("run/7", { ok: true });
      await kv.set("run/8", 8);
      db.connection.prepare("UPDATE kv SET value = '{broken' WHERE key = 'run/7'").run();
      const expected =
        /SqliteKeyValue: the stored value of key "run\/7" in namespace "runs" \(:memory:\) is not valid JSON/;
      await expect(kv.get("run/7")).rejects.toThrow(expected);
      await expect(kv.getMany(["run/8", "run/7"])).rejects.toThrow(expected);
      await expect(kv.list("run/")).rejects.toThrow(expected);
      await expect(kv.setIfAbsent("run/7", 1)).rejects.toThrow(expected);
      await expect(kv.increment("run/7")).rejects.toThrow(expected);
      await expect(kv.get("run/7")).rejects.toThrow(/rewrite it with valid JSON or delete it/);
      expect(await kv.delete("run/7")).toBe(true);
      await kv.close();
    });

    it("rejects keys SQLite text cannot hold, values JSON cannot hold, and bad TTLs or versions", async () => {
      const kv = new SqliteKeyValue(db);
      await expect(kv.set("a\uD800b", 1)).rejects.toThrow(/lone UTF-16 surrogate/);
      await expect(kv.get("\uDC00")).rejects.toThrow(/lone UTF-16 surrogate/);
      await expect(kv.set("", 1)).rejects.toThrow(/key must be a non-empty string/);
      await expect(kv.set("k", undefined)).rejects.toThrow(/JSON cannot represent/);
      await expect(kv.set("k", 1n)).rejects.toThrow(/not JSON-serialisable/);
      await expect(kv.set("k", 1, { ttlMs: 0 })).rejects.toThrow(/ttlMs must be a positive number/);
      await expect(kv.compareAndSet("k", 1, -1)).rejects.toThrow(/expectedVersion must be an integer >= 0/);
      await expect(kv.increment("k", Number.NaN)).rejects.toThrow(/by must be a finite number/);
      expect(await kv.get("k")).toBeUndefined();
      // A well-formed astral character and NUL are fine.
      await kv.set("a\u{1F30D}\u0000b", "ok");
      expect(await kv.get("a\u{1F30D}\u0000b")).toEqual({ value: "ok", version: 1 });
      await kv.close();
    });

    it("validates its options", () => {
      expect(() => new SqliteKeyValue(db, { namespace: 7 as unknown as string })).toThrow(
        /SqliteKeyValue options are invalid[\s\S]*namespace/,
      );
      expect(() => new SqliteKeyValue(db, { clock: {} as ManualClock })).toThrow(
        /clock must be an object with a now/,
      );
      expect(() => new SqliteKeyValue(db, { ttl: 5 } as never)).toThrow(/ttl/);
      expect(() => new SqliteKeyValue({} as SqliteDatabase)).toThrow(/must be a database from openSqlite/);
    });

    it("refuses calls once closed", async () => {
      const kv = new SqliteKeyValue(db);
      await kv.close();
      await expect(kv.get("k")).rejects.toThrow("SqliteKeyValue.get: this store is closed; create a new one");
    });
  });
});
