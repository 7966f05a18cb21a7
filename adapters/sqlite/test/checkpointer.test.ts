import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BackgroundCheckpointer } from "../src/checkpointer.js";
import { GroupCommit } from "../src/group-commit.js";
import { openSqlite, SqliteKeyValue } from "../src/index.js";
import { makeTempDir } from "./temp-dir.js";

/** Enough write transactions for a connection to count as busy (each awaited set is one). */
const BUSY = 300;

async function writeTransactions(kv: SqliteKeyValue, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await kv.set(`key/${i}`, { i, padding: "x".repeat(200) });
}

async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

describe("background checkpoints", () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir("checkpoints");
  });
  afterEach(() => dir.remove());

  it("start once a file sees steady writes, and copy the WAL into the file while this connection does not", async () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    const kv = new SqliteKeyValue(db);
    try {
      await writeTransactions(kv, 10);
      expect(db.checkpointsInBackground).toBe(false);
      await writeTransactions(kv, BUSY);
      expect(db.checkpointsInBackground).toBe(true);
      expect(db.connection.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
      const sizeBefore = statSync(file).size;
      await writeTransactions(kv, 500);
      // Only the thread copies pages into the main file now.
      expect(await eventually(() => statSync(file).size > sizeBefore)).toBe(true);
      expect(await kv.get("key/0")).toEqual({ value: { i: 0, padding: "x".repeat(200) }, version: 3 });
    } finally {
      await kv.close();
      db.close();
    }
  });

  it("stop with the database: closing leaves no WAL behind, and the data is all in the file", async () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    const kv = new SqliteKeyValue(db);
    await writeTransactions(kv, BUSY);
    expect(db.checkpointsInBackground).toBe(true);
    await kv.close();
    db.close();
    // The last connection to close removes the WAL: the thread's connection was closed first.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = openSqlite(file);
    const again = new SqliteKeyValue(reopened);
    expect((await again.list("key/", { limit: 1000 })).entries).toHaveLength(BUSY);
    await again.close();
    reopened.close();
  });

  it("are off when asked, and for in-memory databases: the connection checkpoints as SQLite does", async () => {
    for (const db of [
      openSqlite(dir.file("off.db"), { backgroundCheckpoints: false }),
      openSqlite(":memory:"),
    ]) {
      const kv = new SqliteKeyValue(db);
      await writeTransactions(kv, BUSY);
      expect(db.checkpointsInBackground).toBe(false);
      await kv.close();
      db.close();
    }
    expect(() => openSqlite(":memory:", { backgroundCheckpoints: "yes" as unknown as boolean })).toThrow(
      /backgroundCheckpoints/,
    );
  });
});

describe("BackgroundCheckpointer", () => {
  it("resets the WAL under a steady stream of writes: the process pauses for the RESTART it asks for", async () => {
    const dir = makeTempDir("restart");
    const file = dir.file("aat.db");
    const db = openSqlite(file, { backgroundCheckpoints: false });
    db.connection.pragma("wal_autocheckpoint = 0");
    const checkpointer = new BackgroundCheckpointer({
      file,
      busyTimeoutMs: 5_000,
      synchronous: "NORMAL",
      intervalMs: 1,
      restartFrames: 200,
      onFailure: () => undefined,
    });
    // The same handshake openSqlite wires into its connection.
    const groups = new GroupCommit(db.connection, { beforeTransaction: () => checkpointer.yieldToRestart() });
    const insert = db.connection.prepare(
      "INSERT INTO kv (namespace, key, value, version) VALUES ('', ?, ?, 1)",
    );
    try {
      const value = JSON.stringify("x".repeat(2_000));
      const writeGroup = (group: number) =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) => groups.write(() => insert.run(`${group}/${i}`, value))),
        );
      // Until the thread is up: it has copied pages into the file.
      const emptySize = statSync(file).size;
      let group = 0;
      while (statSync(file).size === emptySize) {
        await writeGroup(group++);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // Then about 100 MB of pages, written without a pause between transactions. Each reset of the WAL
      // gives its header new salts (bytes 16-23).
      const wal = openSync(`${file}-wal`, "r");
      const salts = new Set<string>();
      const header = Buffer.alloc(8);
      for (const last = group + 5_000; group < last; group++) {
        await writeGroup(group);
        readSync(wal, header, 0, 8, 16);
        salts.add(header.toString("hex"));
      }
      closeSync(wal);
      // Without the pause a RESTART would hardly ever find the write lock free, and the WAL would keep
      // growing instead (measured: 3 or 4 resets without the pause, about 60 with it).
      expect(salts.size).toBeGreaterThan(20);
    } finally {
      checkpointer.close();
      db.close();
      dir.remove();
    }
  });

  it("reports a thread that cannot open the file, and closing it then returns at once", async () => {
    let failure: unknown;
    const checkpointer = new BackgroundCheckpointer({
      file: "/nonexistent-directory/for/sure/aat.db",
      busyTimeoutMs: 100,
      synchronous: "NORMAL",
      intervalMs: 10,
      restartFrames: 100,
      onFailure: (error) => {
        failure = error;
      },
    });
    expect(await eventually(() => failure !== undefined)).toBe(true);
    expect(String(failure)).toMatch(/unable to open database file|directory does not exist/);
    // A failed thread is not waited for (waiting would outlast this test's timeout).
    checkpointer.close();
    checkpointer.close();
  });
});
