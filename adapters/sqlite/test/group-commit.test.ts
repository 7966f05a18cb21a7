import { Session } from "node:inspector/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase, SqliteKeyValue, SqliteQueue } from "../src/index.js";
import { holdWriteLock } from "./fixtures/lock-holder.js";
import { makeTempDir } from "./temp-dir.js";

describe("group commit", () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let kv: SqliteKeyValue;

  beforeEach(() => {
    dir = makeTempDir("group");
    db = openSqlite(dir.file("aat.db"));
    kv = new SqliteKeyValue(db);
  });
  afterEach(async () => {
    await kv.close();
    db.close();
    dir.remove();
  });

  it("commits the writes issued in one turn of the event loop in one transaction, answering each", async () => {
    const queue = new SqliteQueue<string>(db, { name: "jobs" });
    const before = db.commitStats;
    const results = await Promise.all([
      kv.set("a", 1),
      kv.setIfAbsent("b", 2),
      kv.setIfAbsent("b", 3),
      kv.increment("n", 5),
      queue.publish("job", { dedupeId: "once" }),
      queue.publish("job", { dedupeId: "once" }),
    ]);
    const after = db.commitStats;
    expect(after.transactions - before.transactions).toBe(1);
    expect(after.operations - before.operations).toBe(6);
    expect(results[0]).toBe(1);
    expect(results[1]).toEqual({ ok: true, version: 1 });
    expect(results[2]).toEqual({ ok: false, current: { value: 2, version: 1 } });
    expect(results[3]).toBe(5);
    expect(results[4]).toMatchObject({ duplicate: false });
    expect(results[5]).toEqual({
      messageId: (results[4] as { messageId: string }).messageId,
      duplicate: true,
    });
    await queue.close();
  });

  it("answers a write only once it is committed: another connection reads it at once", async () => {
    const other = openSqlite(dir.file("aat.db"));
    const otherKv = new SqliteKeyValue(other);
    try {
      const written = Array.from({ length: 20 }, (_, i) =>
        kv.set(`k${i}`, i).then(async () => (await otherKv.get(`k${i}`))?.value),
      );
      expect(await Promise.all(written)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await otherKv.close();
      other.close();
    }
  });

  it("lets a read issued after a write that is not yet answered see that write", async () => {
    const write = kv.set("k", "new");
    const read = kv.get("k");
    const listing = kv.list("k");
    await write;
    expect(await read).toEqual({ value: "new", version: 1 });
    expect((await listing).entries.map((entry) => entry.key)).toEqual(["k"]);
  });

  it("fails only the operation that failed; the rest of its group is stored", async () => {
    await kv.set("text", "not a number");
    const results = await Promise.allSettled([kv.set("before", 1), kv.increment("text"), kv.set("after", 2)]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/not a number/);
    expect(await kv.getMany(["before", "text", "after"])).toEqual([
      { value: 1, version: 1 },
      { value: "not a number", version: 1 },
      { value: 2, version: 1 },
    ]);
  });

  it("when SQLite rolls the whole group back, fails what ran in it and retries what had not run", async () => {
    const results = await Promise.allSettled([
      kv.set("lost", 1),
      db.write(() => {
        // What SQLite does on an I/O error or a full disk: the transaction is gone.
        db.connection.exec("ROLLBACK");
        throw new Error("disk I/O error");
      }),
      kv.set("kept", 2),
    ]);
    expect(results[0]).toMatchObject({ status: "rejected" });
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(
      /rolled back the transaction this write was part of \(disk I\/O error\); it was not stored/,
    );
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/disk I\/O error/);
    expect(results[2]).toEqual({ status: "fulfilled", value: 1 });
    expect(await kv.get("lost")).toBeUndefined();
    expect(await kv.get("kept")).toEqual({ value: 2, version: 1 });
  });

  it("stores writes still waiting for their group when the database is closed", async () => {
    const write = kv.set("k", "kept");
    await kv.close();
    db.close();
    await expect(write).resolves.toBe(1);
    db = openSqlite(dir.file("aat.db"));
    kv = new SqliteKeyValue(db);
    expect(await kv.get("k")).toEqual({ value: "kept", version: 1 });
  });

  it("reads without the write lock: another connection holding it does not block a group of reads", async () => {
    await kv.set("k", 1);
    const other = openSqlite(dir.file("aat.db"), { busyTimeoutMs: 0 });
    other.connection.exec("BEGIN IMMEDIATE");
    try {
      expect(await Promise.all([kv.get("k"), kv.getMany(["k", "x"]), kv.list("")])).toEqual([
        { value: 1, version: 1 },
        [{ value: 1, version: 1 }, undefined],
        { entries: [{ key: "k", value: 1, version: 1 }] },
      ]);
    } finally {
      other.connection.exec("ROLLBACK");
      other.close();
    }
  });
});

describe("group commit while another connection holds the write lock", () => {
  it("waits the busy timeout out in real time, even when signals cut SQLite's own sleeps short", async () => {
    const dir = makeTempDir("busy");
    const file = dir.file("aat.db");
    const db = openSqlite(file, { backgroundCheckpoints: false });
    const kv = new SqliteKeyValue(db);
    await kv.set("k", "before");
    const holder = holdWriteLock(file);
    // A sampling profiler interrupts the thread with SIGPROF every 100 µs, as \`node --cpu-prof\` does.
    const profiler = new Session();
    profiler.connect();
    try {
      await holder.held;
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.setSamplingInterval", { interval: 100 });
      await profiler.post("Profiler.start");
      await expect(kv.set("k", "after")).resolves.toBe(2);
    } finally {
      await profiler.post("Profiler.stop").catch(() => undefined);
      profiler.disconnect();
      holder.release();
      await holder.exited;
      await kv.close();
      db.close();
      dir.remove();
    }
  });
});
