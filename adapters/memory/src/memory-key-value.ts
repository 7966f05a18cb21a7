import {
  assertExpectedVersion,
  type Clock,
  clockSchema,
  decodeListCursor,
  encodeListCursor,
  type KeyValue,
  type KvConditionalResult,
  type KvEntry,
  type KvListOptions,
  type KvListPage,
  type KvWriteOptions,
  listPageLimit,
  systemClock,
  toStoredJson,
} from "@aat/core/ports";
import { z } from "zod";
import { fromStoredJson } from "./stored-json.js";

interface StoredEntry {
  readonly json: string;
  readonly version: number;
  /** Epoch ms (on the injected clock) from which the entry is invisible; undefined: never. */
  readonly expiresAt: number | undefined;
}

/**
 * What the map holds for a key: a StoredEntry, or just the JSON text for an entry at version 1 that
 * never expires. Most keys are written once and kept (every run's event log), so this saves one object
 * per entry for the garbage collector to copy and trace on the engine's most frequent write.
 */
type Stored = StoredEntry | string;

function jsonOf(stored: Stored): string {
  return typeof stored === "string" ? stored : stored.json;
}

function versionOf(stored: Stored): number {
  return typeof stored === "string" ? 1 : stored.version;
}

function expiryOf(stored: Stored): number | undefined {
  return typeof stored === "string" ? undefined : stored.expiresAt;
}

const optionsSchema = z
  .object({
    clock: clockSchema,
    defaultListLimit: z.number().int().positive(),
    maxListLimit: z.number().int().positive(),
  })
  .partial()
  .strict();

export type MemoryKeyValueOptions = z.input<typeof optionsSchema>;

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;
/** Expired entries are swept once this many writes (or the store size, if larger) have happened. */
const SWEEP_EVERY_WRITES = 1024;

/**
 * In-process KeyValue with the full port semantics: versions, TTL on an injectable clock,
 * conditional writes and cursor paging. Operations never await between read and write, so
 * every conditional write is atomic with respect to concurrent callers in the same process.
 */
export class MemoryKeyValue implements KeyValue {
  private readonly entries = new Map<string, Stored>();
  private readonly clock: Clock;
  private readonly defaultListLimit: number;
  private readonly maxListLimit: number;
  /** Sorted key list for `list`; dropped whenever a key is added or removed. */
  private sortedKeys: string[] | undefined;
  private expiringEntries = 0;
  private writesSinceSweep = 0;
  private closed = false;

  constructor(options: MemoryKeyValueOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(`MemoryKeyValue options are invalid: ${z.prettifyError(parsed.error)}`);
    }
    this.clock = parsed.data.clock ?? systemClock;
    this.defaultListLimit = parsed.data.defaultListLimit ?? DEFAULT_LIST_LIMIT;
    this.maxListLimit = parsed.data.maxListLimit ?? MAX_LIST_LIMIT;
  }

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    this.assertOpen();
    return this.read<T>(key);
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    this.assertOpen();
    if (!Array.isArray(keys)) throw new TypeError("MemoryKeyValue.getMany: keys must be an array of strings");
    const result = new Array<KvEntry<T> | undefined>(keys.length);
    for (let index = 0; index < keys.length; index++) result[index] = this.read<T>(keys[index]!);
    return result;
  }

  async set(key: string, value: unknown, options?: KvWriteOptions): Promise<number> {
    this.assertOpen();
    assertKey(key, "set");
    const json = toStoredJson(value, "MemoryKeyValue.set", key);
    const expiresAt = this.expiryFor(options, "set");
    const stored = this.entries.get(key);
    const version = stored !== undefined && !this.isExpired(stored) ? versionOf(stored) + 1 : 1;
    return this.write(key, json, version, expiresAt, stored);
  }

  async setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.assertOpen();
    assertKey(key, "setIfAbsent");
    const json = toStoredJson(value, "MemoryKeyValue.setIfAbsent", key);
    const expiresAt = this.expiryFor(options, "setIfAbsent");
    const stored = this.entries.get(key);
    if (stored !== undefined && !this.isExpired(stored)) return { ok: false, current: toEntry<T>(stored) };
    return { ok: true, version: this.write(key, json, 1, expiresAt, stored) };
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.assertOpen();
    assertKey(key, "compareAndSet");
    assertVersion(expectedVersion, "compareAndSet");
    const json = toStoredJson(value, "MemoryKeyValue.compareAndSet", key);
    const expiresAt = this.expiryFor(options, "compareAndSet");
    const current = this.live(key);
    if ((current === undefined ? 0 : versionOf(current)) !== expectedVersion) {
      return { ok: false, current: current === undefined ? undefined : toEntry<T>(current) };
    }
    return {
      ok: true,
      version: this.write(key, json, expectedVersion + 1, expiresAt, this.entries.get(key)),
    };
  }

  async delete(key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    this.assertOpen();
    assertKey(key, "delete");
    const expectedVersion = options?.expectedVersion;
    if (expectedVersion !== undefined) assertVersion(expectedVersion, "delete");
    const current = this.live(key);
    if (current === undefined) return false;
    if (expectedVersion !== undefined && versionOf(current) !== expectedVersion) return false;
    this.remove(key, current);
    return true;
  }

  async list<T = unknown>(prefix: string, options: KvListOptions = {}): Promise<KvListPage<T>> {
    this.assertOpen();
    if (typeof prefix !== "string") throw new TypeError("MemoryKeyValue.list: prefix must be a string");
    const limit = this.pageLimit(options.limit);
    const keys = this.sorted();
    let index: number;
    if (options.cursor !== undefined) {
      const after = decodeCursor(options.cursor, prefix);
      index = firstIndexAbove(keys, after, true);
    } else {
      index = firstIndexAbove(keys, prefix, false);
    }
    const now = this.clock.now();
    const entries: KvListPage<T>["entries"] = [];
    let lastKey: string | undefined;
    for (; index < keys.length; index++) {
      const key = keys[index]!;
      if (!key.startsWith(prefix)) return { entries };
      const stored = this.entries.get(key);
      if (stored === undefined || isExpired(stored, now)) continue;
      if (entries.length === limit) return { entries, cursor: encodeListCursor(lastKey!) };
      entries.push({ key, ...toEntry<T>(stored) });
      lastKey = key;
    }
    return { entries };
  }

  async increment(key: string, by = 1, options?: KvWriteOptions): Promise<number> {
    this.assertOpen();
    assertKey(key, "increment");
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw new TypeError(
        `MemoryKeyValue.increment("${key}"): by must be a finite number, got ${String(by)}`,
      );
    }
    const expiresAt = this.expiryFor(options, "increment");
    const current = this.live(key);
    let base = 0;
    if (current !== undefined) {
      const value: unknown = fromStoredJson(jsonOf(current));
      if (typeof value !== "number") {
        throw new TypeError(
          `MemoryKeyValue.increment("${key}"): the stored value is ${value === null ? "null" : typeof value}, not a number; ` +
            "increment only works on keys that are absent or hold a number",
        );
      }
      base = value;
    }
    const next = base + by;
    const version = current === undefined ? 1 : versionOf(current) + 1;
    this.write(key, JSON.stringify(next), version, expiresAt, this.entries.get(key));
    return next;
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Number of live (unexpired) keys; for tests and diagnostics. */
  get size(): number {
    const now = this.clock.now();
    let count = 0;
    for (const entry of this.entries.values()) if (!isExpired(entry, now)) count++;
    return count;
  }

  /** Entries held in memory, including expired ones not yet swept; for tests and diagnostics. */
  get retainedCount(): number {
    return this.entries.size;
  }

  /** Removes every expired entry now (writes also trigger this periodically). */
  sweepExpired(): void {
    this.writesSinceSweep = 0;
    if (this.expiringEntries === 0) return;
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (isExpired(entry, now)) this.remove(key, entry);
  }

  private read<T>(key: string): KvEntry<T> | undefined {
    if (typeof key !== "string") throw new TypeError("MemoryKeyValue: keys must be strings");
    const stored = this.live(key);
    return stored === undefined ? undefined : toEntry<T>(stored);
  }

  /** The entry when present and unexpired; an expired entry counts as absent (its version is forgotten). */
  private live(key: string): Stored | undefined {
    const stored = this.entries.get(key);
    if (stored === undefined || this.isExpired(stored)) return undefined;
    return stored;
  }

  private isExpired(stored: Stored): boolean {
    const expiresAt = expiryOf(stored);
    return expiresAt !== undefined && expiresAt <= this.clock.now();
  }

  /** `stored`: what `entries` holds for `key` now (callers have just looked it up; one Map lookup less). */
  private write(
    key: string,
    json: string,
    version: number,
    expiresAt: number | undefined,
    stored: Stored | undefined,
  ): number {
    if (stored === undefined)
      this.sortedKeys = undefined; // a new key
    else if (expiryOf(stored) !== undefined) this.expiringEntries--;
    this.entries.set(key, version === 1 && expiresAt === undefined ? json : { json, version, expiresAt });
    if (expiresAt !== undefined) this.expiringEntries++;
    if (++this.writesSinceSweep > Math.max(SWEEP_EVERY_WRITES, this.entries.size)) this.sweepExpired();
    return version;
  }

  private remove(key: string, stored: Stored): void {
    if (expiryOf(stored) !== undefined) this.expiringEntries--;
    this.entries.delete(key);
    this.sortedKeys = undefined;
  }

  private sorted(): string[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.entries.keys()].sort();
    return this.sortedKeys;
  }

  private expiryFor(options: KvWriteOptions | undefined, operation: string): number | undefined {
    const ttlMs = options?.ttlMs;
    if (ttlMs === undefined) return undefined;
    if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError(
        `MemoryKeyValue.${operation}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`,
      );
    }
    return this.clock.now() + ttlMs;
  }

  private pageLimit(limit: number | undefined): number {
    return listPageLimit("MemoryKeyValue", limit, this.defaultListLimit, this.maxListLimit);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("MemoryKeyValue is closed; create a new one");
  }
}

function toEntry<T>(stored: Stored): KvEntry<T> {
  return { value: fromStoredJson<T>(jsonOf(stored)), version: versionOf(stored) };
}

function isExpired(stored: Stored, now: number): boolean {
  const expiresAt = expiryOf(stored);
  return expiresAt !== undefined && expiresAt <= now;
}

function assertKey(key: string, operation: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(
      `MemoryKeyValue.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
    );
  }
}

function assertVersion(version: number, operation: string): void {
  assertExpectedVersion("MemoryKeyValue", operation, version);
}

/** Index of the first key >= bound (or > bound when `strictlyAbove`). */
function firstIndexAbove(keys: readonly string[], bound: string, strictlyAbove: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const key = keys[middle]!;
    if (key < bound || (strictlyAbove && key === bound)) low = middle + 1;
    else high = middle;
  }
  return low;
}

function decodeCursor(cursor: string, prefix: string): string {
  return decodeListCursor("MemoryKeyValue", cursor, prefix);
}
