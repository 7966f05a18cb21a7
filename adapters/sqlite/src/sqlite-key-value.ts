import {
  type Clock,
  type KeyValue,
  type KvConditionalResult,
  type KvEntry,
  type KvListOptions,
  type KvListPage,
  type KvWriteOptions,
  systemClock,
  toStoredJson,
} from "@aat/core";
import type Database from "better-sqlite3";
import { z } from "zod";
import { decodeCursor, encodeCursor, prefixUpperBound } from "./key-range.js";
import { clockSchema, isWellFormed, parseOptions } from "./options.js";
import type { SqliteDatabase } from "./sqlite-database.js";
import { fromStoredJson } from "./stored-json.js";

const optionsSchema = z
  .object({
    clock: clockSchema,
    /** Keeps several stores apart in one file (default ""). */
    namespace: z.string(),
    defaultListLimit: z.number().int().positive(),
    maxListLimit: z.number().int().positive(),
    /** How often expired rows are deleted (default 60 s; 0: only when `purgeExpired()` is called). */
    purgeIntervalMs: z.number().int().nonnegative(),
  })
  .partial()
  .strict();

export type SqliteKeyValueOptions = z.input<typeof optionsSchema>;

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;
const DEFAULT_PURGE_INTERVAL_MS = 60_000;
/** Rows deleted per purge statement, so a large purge never holds the write lock for long. */
const PURGE_BATCH = 500;
/** getMany binds keys in IN lists of a power-of-two size up to this (one statement per size). */
const MAX_KEYS_PER_QUERY = 512;

const LIVE = "(expires_at IS NULL OR expires_at > ?)";

interface ValueRow {
  value: string;
  version: number;
}

interface KeyedRow extends ValueRow {
  key: string;
}

/**
 * KeyValue on the `kv` table of an SQLite file. Every conditional write is one SQL statement (an upsert
 * or update guarded by version and expiry), so it is atomic against other connections and processes;
 * `increment`, which must read the number first, runs in an IMMEDIATE transaction.
 */
export class SqliteKeyValue implements KeyValue {
  readonly namespace: string;
  private readonly db: SqliteDatabase;
  private readonly clock: Clock;
  private readonly defaultListLimit: number;
  private readonly maxListLimit: number;
  private readonly selectLive: Database.Statement<[string, string, number], ValueRow>;
  private readonly upsert: Database.Statement<
    [string, string, string, number | null, number],
    { version: number }
  >;
  private readonly insertIfAbsent: Database.Statement<[string, string, string, number | null]>;
  private readonly replaceExpired: Database.Statement<[string, number | null, string, string, number]>;
  private readonly updateAtVersion: Database.Statement<
    [string, number | null, string, string, number, number],
    { version: number }
  >;
  private readonly deleteLive: Database.Statement<[string, string, number]>;
  private readonly deleteAtVersion: Database.Statement<[string, string, number, number]>;
  private readonly incrementInTransaction: (key: string, by: number, ttlMs: number | undefined) => number;
  private purgeTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(db: SqliteDatabase, options: SqliteKeyValueOptions = {}) {
    if (typeof db?.statement !== "function") {
      throw new TypeError("SqliteKeyValue: the first argument must be a database from openSqlite()");
    }
    const settings = parseOptions(optionsSchema, options, "SqliteKeyValue");
    this.db = db;
    this.namespace = settings.namespace ?? "";
    this.clock = settings.clock ?? systemClock;
    this.defaultListLimit = settings.defaultListLimit ?? DEFAULT_LIST_LIMIT;
    this.maxListLimit = settings.maxListLimit ?? MAX_LIST_LIMIT;

    this.selectLive = db.statement(
      `SELECT value, version FROM kv WHERE namespace = ? AND key = ? AND ${LIVE}`,
    );
    // An expired row counts as absent: writing over it starts again at version 1.
    this.upsert = db.statement(
      `INSERT INTO kv (namespace, key, value, version, expires_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET
         value = excluded.value,
         version = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= ? THEN 1 ELSE kv.version + 1 END,
         expires_at = excluded.expires_at
       RETURNING version`,
    );
    // setIfAbsent in two statements: the usual case (a new key) is a plain insert, which costs a third
    // less than one upsert with RETURNING; only a key that exists needs the second, for an expired row.
    this.insertIfAbsent = db.statement(
      `INSERT INTO kv (namespace, key, value, version, expires_at) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (namespace, key) DO NOTHING`,
    );
    this.replaceExpired = db.statement(
      `UPDATE kv SET value = ?, version = 1, expires_at = ?
       WHERE namespace = ? AND key = ? AND expires_at IS NOT NULL AND expires_at <= ?`,
    );
    this.updateAtVersion = db.statement(
      `UPDATE kv SET value = ?, version = version + 1, expires_at = ?
       WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE}
       RETURNING version`,
    );
    this.deleteLive = db.statement(`DELETE FROM kv WHERE namespace = ? AND key = ? AND ${LIVE}`);
    this.deleteAtVersion = db.statement(
      `DELETE FROM kv WHERE namespace = ? AND key = ? AND version = ? AND ${LIVE}`,
    );
    this.incrementInTransaction = db.immediate((key: string, by: number, ttlMs: number | undefined) => {
      const now = this.clock.now();
      const row = this.selectLive.get(this.namespace, key, now);
      let base = 0;
      if (row !== undefined) {
        const value = this.parse<unknown>(row.value, key);
        if (typeof value !== "number") {
          throw new TypeError(
            `SqliteKeyValue.increment("${key}"): the stored value is ${value === null ? "null" : typeof value}, ` +
              "not a number; increment only works on keys that are absent or hold a number",
          );
        }
        base = value;
      }
      const next = base + by;
      this.upsert.get(this.namespace, key, JSON.stringify(next), expiryAt(ttlMs, now), now);
      return next;
    });

    const purgeIntervalMs = settings.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    if (purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => this.purgeInBackground(), purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    this.assertUsable("get", key);
    return this.db.read(() => this.read<T>(key));
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    this.assertOpen("getMany");
    if (!Array.isArray(keys)) throw new TypeError("SqliteKeyValue.getMany: keys must be an array of strings");
    for (const key of keys) assertKey(key, "getMany");
    const wanted = [...keys];
    return this.db.read(() => this.readMany<T>(wanted));
  }

  async set(key: string, value: unknown, options?: KvWriteOptions): Promise<number> {
    this.assertUsable("set", key);
    const json = toStoredJson(value, "SqliteKeyValue.set", key);
    const ttlMs = ttlOf(options, "set");
    return this.db.write(() => {
      const now = this.clock.now();
      return this.upsert.get(this.namespace, key, json, expiryAt(ttlMs, now), now)!.version;
    });
  }

  async setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.assertUsable("setIfAbsent", key);
    const json = toStoredJson(value, "SqliteKeyValue.setIfAbsent", key);
    const ttlMs = ttlOf(options, "setIfAbsent");
    return this.db.write(() => this.writeIfAbsent<T>(key, json, ttlMs));
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.assertUsable("compareAndSet", key);
    assertVersion(expectedVersion, "compareAndSet");
    const json = toStoredJson(value, "SqliteKeyValue.compareAndSet", key);
    const ttlMs = ttlOf(options, "compareAndSet");
    if (expectedVersion === 0) return this.db.write(() => this.writeIfAbsent<T>(key, json, ttlMs));
    return this.db.write(() => this.writeAtVersion<T>(key, json, expectedVersion, ttlMs));
  }

  async delete(key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    this.assertUsable("delete", key);
    const expectedVersion = options?.expectedVersion;
    if (expectedVersion === undefined) {
      return this.db.write(() => this.deleteLive.run(this.namespace, key, this.clock.now()).changes > 0);
    }
    assertVersion(expectedVersion, "delete");
    return this.db.write(
      () => this.deleteAtVersion.run(this.namespace, key, expectedVersion, this.clock.now()).changes > 0,
    );
  }

  async list<T = unknown>(prefix: string, options: KvListOptions = {}): Promise<KvListPage<T>> {
    this.assertOpen("list");
    if (typeof prefix !== "string" || !isWellFormed(prefix)) {
      throw new TypeError("SqliteKeyValue.list: prefix must be a string without lone UTF-16 surrogates");
    }
    const limit = this.pageLimit(options?.limit);
    let after: string | undefined;
    if (options?.cursor !== undefined) {
      after = decodeCursor(options.cursor, prefix);
      if (after === undefined) {
        throw new TypeError(
          `SqliteKeyValue.list: cursor ${JSON.stringify(options.cursor)} was not returned by a listing of prefix ` +
            `${JSON.stringify(prefix)}; pass the cursor from the previous page of the same prefix, or omit it to start over`,
        );
      }
    }
    return this.db.read(() => this.readPage<T>(prefix, limit, after));
  }

  private readPage<T>(prefix: string, limit: number, after: string | undefined): KvListPage<T> {
    const upper = prefixUpperBound(prefix);
    const sql =
      `SELECT key, value, version FROM kv WHERE namespace = ? AND key ${after === undefined ? ">=" : ">"} ?` +
      `${upper === undefined ? "" : " AND key < ?"} AND ${LIVE} ORDER BY key LIMIT ?`;
    const parameters: unknown[] = [this.namespace, after ?? prefix];
    if (upper !== undefined) parameters.push(upper);
    // One row more than the page tells whether a next page exists without a second query.
    parameters.push(this.clock.now(), limit + 1);
    const rows = this.db.statement<unknown[], KeyedRow>(sql).all(...parameters);
    const page = rows.length > limit ? rows.slice(0, limit) : rows;
    const entries = page.map((row) => ({
      key: row.key,
      value: this.parse<T>(row.value, row.key),
      version: row.version,
    }));
    return rows.length > limit ? { entries, cursor: encodeCursor(page[page.length - 1]!.key) } : { entries };
  }

  async increment(key: string, by = 1, options?: KvWriteOptions): Promise<number> {
    this.assertUsable("increment", key);
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw new TypeError(
        `SqliteKeyValue.increment("${key}"): by must be a finite number, got ${String(by)}`,
      );
    }
    const ttlMs = ttlOf(options, "increment");
    return this.db.write(() => this.incrementInTransaction(key, by, ttlMs));
  }

  async ping(): Promise<void> {
    this.assertOpen("ping");
    this.db.statement("SELECT 1").get();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
  }

  /**
   * Deletes expired rows of every namespace in the file (a timer does this every `purgeIntervalMs`);
   * returns how many. Expired rows are invisible before this runs; purging only reclaims space.
   */
  purgeExpired(): number {
    this.assertOpen("purgeExpired");
    const purge = this.db.statement<[number, number]>(
      `DELETE FROM kv WHERE rowid IN
         (SELECT rowid FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
    );
    const now = this.clock.now();
    let total = 0;
    for (;;) {
      const deleted = purge.run(now, PURGE_BATCH).changes;
      total += deleted;
      if (deleted < PURGE_BATCH) return total;
    }
  }

  private purgeInBackground(): void {
    if (this.closed || !this.db.isOpen) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = undefined;
      return;
    }
    try {
      this.purgeExpired();
    } catch {
      // A busy file or a closed connection: the next tick tries again, and reads never see expired rows.
    }
  }

  private writeIfAbsent<T>(key: string, json: string, ttlMs: number | undefined): KvConditionalResult<T> {
    for (;;) {
      const now = this.clock.now();
      const expiresAt = expiryAt(ttlMs, now);
      if (this.insertIfAbsent.run(this.namespace, key, json, expiresAt).changes > 0)
        return { ok: true, version: 1 };
      if (this.replaceExpired.run(json, expiresAt, this.namespace, key, now).changes > 0) {
        return { ok: true, version: 1 };
      }
      // The key existed at the insert; if another process removed it since, try again rather than
      // report a conflict with nothing.
      const current = this.read<T>(key);
      if (current !== undefined) return { ok: false, current };
    }
  }

  private readMany<T>(keys: readonly string[]): Array<KvEntry<T> | undefined> {
    const found = new Map<string, ValueRow>();
    const unique = [...new Set(keys)];
    const now = this.clock.now();
    for (let start = 0; start < unique.length; start += MAX_KEYS_PER_QUERY) {
      const chunk = unique.slice(start, start + MAX_KEYS_PER_QUERY);
      const size = bucketSize(chunk.length);
      // Padding with the last key keeps the number of distinct statements small; duplicates in IN are harmless.
      while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
      const rows = this.db
        .statement<unknown[], KeyedRow>(
          `SELECT key, value, version FROM kv WHERE namespace = ? AND ${LIVE} AND key IN (${"?,".repeat(size - 1)}?)`,
        )
        .all(this.namespace, now, ...chunk);
      for (const row of rows) found.set(row.key, row);
    }
    // Parsed per slot: a key asked for twice yields two independent copies.
    return keys.map((key) => {
      const row = found.get(key);
      return row === undefined ? undefined : { value: this.parse<T>(row.value, key), version: row.version };
    });
  }

  private writeAtVersion<T>(
    key: string,
    json: string,
    expectedVersion: number,
    ttlMs: number | undefined,
  ): KvConditionalResult<T> {
    for (;;) {
      const now = this.clock.now();
      const expiresAt = expiryAt(ttlMs, now);
      const written = this.updateAtVersion.get(json, expiresAt, this.namespace, key, expectedVersion, now);
      if (written !== undefined) return { ok: true, version: written.version };
      // The conflict is reported as of this read. Should another process have restored the expected
      // version in between, the write would now succeed, so it is tried again instead of misreported.
      const current = this.read<T>(key);
      if (current?.version !== expectedVersion) return { ok: false, current };
    }
  }

  private read<T>(key: string): KvEntry<T> | undefined {
    const row = this.selectLive.get(this.namespace, key, this.clock.now());
    return row === undefined ? undefined : { value: this.parse<T>(row.value, key), version: row.version };
  }

  private parse<T>(json: string, key: string): T {
    return fromStoredJson<T>(
      json,
      () =>
        `SqliteKeyValue: the stored value of key ${JSON.stringify(key)}` +
        `${this.namespace === "" ? "" : ` in namespace ${JSON.stringify(this.namespace)}`} (${this.db.location})`,
    );
  }

  private pageLimit(limit: number | undefined): number {
    if (limit === undefined) return this.defaultListLimit;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TypeError(`SqliteKeyValue.list: limit must be a positive integer, got ${String(limit)}`);
    }
    return Math.min(limit, this.maxListLimit);
  }

  private assertUsable(operation: string, key: string): void {
    this.assertOpen(operation);
    assertKey(key, operation);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`SqliteKeyValue.${operation}: this store is closed; create a new one`);
    if (!this.db.isOpen) {
      throw new Error(`SqliteKeyValue.${operation}: the database ${this.db.location} is closed`);
    }
  }
}

function bucketSize(count: number): number {
  let size = 1;
  while (size < count) size *= 2;
  return size;
}

/** The write's ttlMs, checked when the write is issued (it is applied when the write runs). */
function ttlOf(options: KvWriteOptions | undefined, operation: string): number | undefined {
  const ttlMs = options?.ttlMs;
  if (ttlMs === undefined) return undefined;
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError(
      `SqliteKeyValue.${operation}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`,
    );
  }
  return ttlMs;
}

function expiryAt(ttlMs: number | undefined, now: number): number | null {
  return ttlMs === undefined ? null : now + ttlMs;
}

function assertKey(key: unknown, operation: string): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(
      `SqliteKeyValue.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
    );
  }
  if (!isWellFormed(key)) {
    throw new TypeError(
      `SqliteKeyValue.${operation}: key ${JSON.stringify(key)} contains a lone UTF-16 surrogate, which SQLite ` +
        "text cannot hold; use well-formed Unicode in keys",
    );
  }
}

function assertVersion(version: number, operation: string): void {
  if (!Number.isInteger(version) || version < 0) {
    throw new TypeError(
      `SqliteKeyValue.${operation}: expectedVersion must be an integer >= 0 (0 means absent), got ${String(version)}`,
    );
  }
}
