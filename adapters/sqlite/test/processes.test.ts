import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, SqliteKeyValue, SqliteQueue } from "../src/index.js";
import { startOtherProcess } from "./fixtures/spawn.js";
import { makeTempDir } from "./temp-dir.js";

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

// Real second (and third) Node.js processes on the same file: WAL, busy timeout and IMMEDIATE
// transactions are what keep them apart. Children are started a little ahead of a shared start time so
// their work overlaps.
describe("several processes on one SQLite file", () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir("processes");
  });
  afterEach(() => dir.remove());

  it("gives each of 2000 setIfAbsent races to exactly one of two processes", {
    timeout: 60_000,
  }, async () => {
    const file = dir.file("aat.db");
    // Both children open the brand-new file at once: the schema migration races too.
    const startAt = String(Date.now() + 3_000);
    const children = [
      startOtherProcess(["claim", file, "2000", "a", startAt, "up"]),
      startOtherProcess(["claim", file, "2000", "b", startAt, "down"]),
    ];
    const results = (await Promise.all(children.map((child) => child.firstLine))) as Array<{ won: number[] }>;
    await Promise.all(children.map((child) => child.exited));

    const [a, b] = results as [{ won: number[] }, { won: number[] }];
    expect([...a.won, ...b.won].sort((x, y) => x - y)).toEqual(range(2000));
    const db = openSqlite(file);
    try {
      const kv = new SqliteKeyValue(db);
      const stored = await kv.getMany(range(2000).map((index) => `race/${index}`));
      const wonByA = new Set(a.won);
      stored.forEach((entry, index) => {
        expect(entry).toEqual({ value: wonByA.has(index) ? "a" : "b", version: 1 });
      });
      await kv.close();
    } finally {
      db.close();
    }
  });

  it("hands each of 300 messages to exactly one of two consuming processes", {
    timeout: 60_000,
  }, async () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    try {
      const queue = new SqliteQueue(db, { name: "work" });
      const published = new Set<string>();
      for (const index of range(300)) published.add((await queue.publish({ index })).messageId);

      const startAt = String(Date.now() + 3_000);
      const children = [1, 2].map(() => startOtherProcess(["consume", file, "work", startAt, "1500", "3"]));
      const results = (await Promise.all(children.map((child) => child.firstLine))) as Array<{
        ids: string[];
      }>;
      await Promise.all(children.map((child) => child.exited));

      const delivered = results.flatMap((result) => result.ids);
      expect(delivered).toHaveLength(300);
      expect(new Set(delivered)).toEqual(published);
      expect(queue.pendingCount).toBe(0);
      await queue.close();
    } finally {
      db.close();
    }
  });

  it("delivers again a message whose process was killed while holding it, once the lease has passed", {
    timeout: 60_000,
  }, async () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    try {
      const lease = 1_500;
      const queue = new SqliteQueue(db, { name: "steps", pollIntervalMs: 20 });
      const { messageId } = await queue.publish({ step: "enrich" });

      const spawnedAt = Date.now();
      const holder = startOtherProcess(["lease-and-hang", file, "steps", String(lease)]);
      expect(await holder.firstLine).toEqual({ id: messageId, deliveryCount: 1 });
      holder.child.kill("SIGKILL");
      await holder.exited;

      const [again] = await queue.receive({ waitMs: 30_000 });
      // The child leased it after it was spawned, so the lease cannot have ended before this.
      expect(Date.now() - spawnedAt).toBeGreaterThanOrEqual(lease);
      expect(again).toMatchObject({ id: messageId, body: { step: "enrich" }, deliveryCount: 2 });
      await queue.ack(again!);
      expect(queue.pendingCount).toBe(0);
      await queue.close();
    } finally {
      db.close();
    }
  });

  it("wakes a waiting receive when another process publishes", { timeout: 60_000 }, async () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    try {
      const queue = new SqliteQueue(db, { name: "inbox", pollIntervalMs: 25 });
      const waiting = queue.receive({ waitMs: 40_000 });
      const publisher = startOtherProcess(["publish", file, "inbox", JSON.stringify({ from: "elsewhere" })]);
      const { messageId } = (await publisher.firstLine) as { messageId: string };
      await publisher.exited;
      const messages = await waiting;
      expect(messages.map((message) => [message.id, message.body])).toEqual([
        [messageId, { from: "elsewhere" }],
      ]);
      await queue.ack(messages[0]!);
      await queue.close();
    } finally {
      db.close();
    }
  });
});
