import type Database from "better-sqlite3";

/**
 * Schema versions, applied in order and recorded in `PRAGMA user_version`. Append new versions; never
 * edit a released one (a file already at that version would not see the change).
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE kv (
        namespace  TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,   -- JSON
        version    INTEGER NOT NULL,
        expires_at INTEGER,            -- epoch ms; NULL: never
        PRIMARY KEY (namespace, key)
      ) WITHOUT ROWID;
      CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

      -- seq (the rowid) is what ack/nack find a delivery by: it is embedded in the receipt, so the table
      -- needs no index on the random message id and inserts append to the end of the b-tree.
      CREATE TABLE queue_messages (
        seq            INTEGER PRIMARY KEY,
        id             TEXT    NOT NULL,
        queue          TEXT    NOT NULL,
        body           TEXT    NOT NULL,   -- JSON
        attributes     TEXT    NOT NULL,   -- JSON object of strings
        dedupe_id      TEXT,
        published_at   INTEGER NOT NULL,
        visible_at     INTEGER NOT NULL,   -- delay end, lease end, or when it became ready
        delivery_count INTEGER NOT NULL,
        receipt        TEXT                -- current delivery's receipt; NULL when not leased
      );
      CREATE INDEX queue_messages_visible ON queue_messages (queue, visible_at);

      CREATE TABLE queue_dead_letters (
        id               TEXT    NOT NULL PRIMARY KEY,
        queue            TEXT    NOT NULL,
        body             TEXT    NOT NULL,
        attributes       TEXT    NOT NULL,
        dedupe_id        TEXT,
        delivery_count   INTEGER NOT NULL,
        reason           TEXT    NOT NULL,
        dead_lettered_at INTEGER NOT NULL
      );
      CREATE INDEX queue_dead_letters_by_queue ON queue_dead_letters (queue, dead_lettered_at);

      CREATE TABLE queue_dedupe (
        queue      TEXT    NOT NULL,
        dedupe_id  TEXT    NOT NULL,
        message_id TEXT    NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (queue, dedupe_id)
      ) WITHOUT ROWID;
      CREATE INDEX queue_dedupe_expiry ON queue_dedupe (expires_at);
    `,
  },
  {
    // kv becomes a rowid table with a separate unique index. Rows then sit in insertion order, so the
    // keys a run writes within moments of each other (its log, claims, snapshot) share pages, and a
    // commit rewrites a few hot pages instead of one random leaf per key; values up to ~4 KB (run
    // snapshots) stay on their page instead of spilling to overflow pages (~1 KB in a WITHOUT ROWID table).
    version: 2,
    sql: `
      CREATE TABLE kv_v2 (
        namespace  TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,   -- JSON
        version    INTEGER NOT NULL,
        expires_at INTEGER,            -- epoch ms; NULL: never
        UNIQUE (namespace, key)
      );
      INSERT INTO kv_v2 (namespace, key, value, version, expires_at)
        SELECT namespace, key, value, version, expires_at FROM kv ORDER BY namespace, key;
      DROP TABLE kv;
      ALTER TABLE kv_v2 RENAME TO kv;
      CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the file to SCHEMA_VERSION. The version is read inside an IMMEDIATE transaction, so two
 * processes opening a new file at once apply each migration exactly once; a file already current
 * costs one read.
 */
export function migrate(db: Database.Database, location: string): number {
  const readVersion = () => db.pragma("user_version", { simple: true }) as number;
  const check = (version: number) => {
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `openSqlite(${location}): the file has schema version ${version}, but this build of aat only knows ` +
          `versions up to ${SCHEMA_VERSION}; it was written by a newer aat. Upgrade aat or use another file`,
      );
    }
  };
  const before = readVersion();
  check(before);
  if (before === SCHEMA_VERSION) return before;
  db.transaction(() => {
    const current = readVersion();
    check(current);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      // PRAGMA takes no bound parameters; the version is an integer from the table above.
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
  return readVersion();
}
