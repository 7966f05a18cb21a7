import { writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, SCHEMA_VERSION, SqliteKeyValue, SqliteQueue } from "../src/index.js";
import { MIGRATIONS } from "../src/migrations.js";
import { holdWriteLock } from "./fixtures/lock-holder.js";
import { makeTempDir } from "./temp-dir.js";

describe("openSqlite", () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir("database");
  });
  afterEach(() => dir.remove());

  it("opens a file in WAL mode with synchronous=NORMAL and a busy timeout, creating its directory", () => {
    const db = openSqlite(dir.file("nested/deeper/aat.db"));
    try {
      expect(db.journalMode).toBe("wal");
      expect(db.connection.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.connection.pragma("synchronous", { simple: true })).toBe(1); // NORMAL
      expect(db.connection.pragma("busy_timeout", { simple: true })).toBe(5000);
      expect(db.schemaVersion).toBe(SCHEMA_VERSION);
      expect(db.location).toBe(dir.file("nested/deeper/aat.db"));
    } finally {
      db.close();
    }
  });

  it("switches a new file to WAL while another connection holds a lock on it (SQLite's switch does not wait by itself)", async () => {
    const file = dir.file("aat.db");
    // A connection in another thread makes the file (rollback journal), holds its write lock 300 ms, commits.
    const holder = holdWriteLock(file, {
      setup: "CREATE TABLE held (x)",
      insert: "INSERT INTO held VALUES (1)",
    });
    await holder.held;
    const db = openSqlite(file, { busyTimeoutMs: 5_000 });
    try {
      expect(db.journalMode).toBe("wal");
      expect(db.connection.prepare("SELECT count(*) AS n FROM held").get()).toEqual({ n: 1 });
    } finally {
      db.close();
      await holder.exited;
    }
  });

  it("takes synchronous=full and a busy timeout from the options", () => {
    const db = openSqlite(dir.file("aat.db"), { synchronous: "full", busyTimeoutMs: 250 });
    try {
      expect(db.connection.pragma("synchronous", { simple: true })).toBe(2); // FULL
      expect(db.connection.pragma("busy_timeout", { simple: true })).toBe(250);
    } finally {
      db.close();
    }
  });

  it("rejects bad paths and options with errors that say what to change", () => {
    expect(() => openSqlite("")).toThrow(/path must be a file path or ":memory:"/);
    expect(() => openSqlite(":memory:", { synchronous: "off" as "full" })).toThrow(
      /openSqlite options are invalid[\s\S]*synchronous/,
    );
    expect(() => openSqlite(":memory:", { busyTimeout: 5 } as never)).toThrow(/busyTimeout/);
    expect(() => openSqlite(":memory:", { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });

  it("applies migrations once: reopening, and two handles at once, leave the schema as it is", () => {
    const file = dir.file("aat.db");
    const schemaOf = (db: ReturnType<typeof openSqlite>) =>
      db.connection.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all();
    const first = openSqlite(file);
    const schema = schemaOf(first);
    expect(schema.map((row) => (row as { name: string }).name)).toEqual(
      expect.arrayContaining(["kv", "queue_messages", "queue_dead_letters", "queue_dedupe"]),
    );
    const second = openSqlite(file);
    expect(second.schemaVersion).toBe(SCHEMA_VERSION);
    expect(schemaOf(second)).toEqual(schema);
    second.close();
    first.close();
    const reopened = openSqlite(file);
    expect(reopened.schemaVersion).toBe(SCHEMA_VERSION);
    expect(schemaOf(reopened)).toEqual(schema);
    reopened.close();
  });

  it("moves the entries of a schema 1 file into the rowid kv table of schema 2, versions and expiry kept", async () => {
    const file = dir.file("aat.db");
    const v1 = new Database(file);
    v1.exec(MIGRATIONS[0]!.sql);
    v1.pragma("user_version = 1");
    const insert = v1.prepare(
      "INSERT INTO kv (namespace, key, value, version, expires_at) VALUES (?, ?, ?, ?, ?)",
    );
    insert.run("", "run/1", JSON.stringify({ status: "running" }), 3, null);
    insert.run("", "claim/1", JSON.stringify("held"), 1, Date.now() + 60_000);
    insert.run("other", "run/1", JSON.stringify(7), 2, null);
    v1.close();

    const db = openSqlite(file);
    try {
      expect(db.schemaVersion).toBe(2);
      const kvSql = db.connection.prepare("SELECT sql FROM sqlite_schema WHERE name = 'kv'").get() as {
        sql: string;
      };
      expect(kvSql.sql).not.toMatch(/WITHOUT ROWID/);
      const kv = new SqliteKeyValue(db);
      const other = new SqliteKeyValue(db, { namespace: "other" });
      expect(await kv.getMany(["run/1", "claim/1"])).toEqual([
        { value: { status: "running" }, version: 3 },
        { value: "held", version: 1 },
      ]);
      expect(await other.get("run/1")).toEqual({ value: 7, version: 2 });
      // The unique key still makes setIfAbsent conditional, and versions carry on from where they were.
      expect(await kv.setIfAbsent("run/1", "again")).toMatchObject({ ok: false });
      expect(await kv.set("run/1", { status: "done" })).toBe(4);
      await kv.close();
      await other.close();
    } finally {
      db.close();
    }
  });

  it("refuses a file written by a newer schema, naming both versions", () => {
    const file = dir.file("aat.db");
    const db = openSqlite(file);
    db.connection.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    db.close();
    expect(() => openSqlite(file)).toThrow(
      new RegExp(
        `schema version ${SCHEMA_VERSION + 7}, but this build of aat only knows versions up to ${SCHEMA_VERSION}`,
      ),
    );
  });

  it("names the file when it is not an SQLite database", () => {
    const file = dir.file("notes.txt");
    writeFileSync(
      file,
      "this is not a database, just some text that is long enough to have a header ".repeat(20),
    );
    expect(() => openSqlite(file)).toThrow(`openSqlite(${file}): the file is not a usable SQLite database`);
  });

  it("keeps key-value entries, queued messages and dead letters across close and reopen", async () => {
    const file = dir.file("aat.db");
    let db = openSqlite(file);
    let kv = new SqliteKeyValue(db);
    let queue = new SqliteQueue<{ job: string }>(db, { name: "jobs" });
    await kv.set("run/1", { status: "running" });
    await kv.set("run/1", { status: "waiting" });
    await kv.set("apikey/abc", { owner: "ops" });
    await queue.publish({ job: "poison" });
    await queue.deadLetter((await queue.receive())[0]!, "bad input");
    const { messageId } = await queue.publish({ job: "next" }, { attributes: { traceparent: "00-x" } });
    await queue.close();
    await kv.close();
    db.close();

    db = openSqlite(file);
    kv = new SqliteKeyValue(db);
    queue = new SqliteQueue<{ job: string }>(db, { name: "jobs" });
    expect(await kv.get("run/1")).toEqual({ value: { status: "waiting" }, version: 2 });
    expect((await kv.list("")).entries.map((entry) => entry.key)).toEqual(["apikey/abc", "run/1"]);
    const [message] = await queue.receive();
    expect(message).toMatchObject({
      id: messageId,
      body: { job: "next" },
      attributes: { traceparent: "00-x" },
    });
    expect((await queue.listDeadLetters()).map((letter) => [letter.body, letter.reason])).toEqual([
      [{ job: "poison" }, "bad input"],
    ]);
    await queue.close();
    await kv.close();
    db.close();
  });

  it("tells adapters that their database was closed", async () => {
    const db = openSqlite(":memory:");
    const kv = new SqliteKeyValue(db);
    const queue = new SqliteQueue(db, { name: "q" });
    db.close();
    db.close();
    await expect(kv.get("k")).rejects.toThrow("SqliteKeyValue.get: the database :memory: is closed");
    await expect(queue.publish(1)).rejects.toThrow(
      'SqliteQueue("q").publish: the database :memory: is closed',
    );
    await kv.close();
    await queue.close();
  });
});
