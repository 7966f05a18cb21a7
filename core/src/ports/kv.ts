/**
 * KeyValue port: the only durable state store the core uses.
 *
 * Semantics every adapter must honour (checked by `keyValueContract` in `@aat/core/testing`):
 * - Values are JSON: what `get` returns is a deep copy of what was stored, never the caller's object.
 * - Every write of a key bumps its version by exactly one; a new key starts at version 1.
 *   Deleting a key forgets its version: re-creating it starts again at 1.
 * - `ttlMs` makes a key invisible (get, list, CAS, increment) once it has elapsed; a later write without
 *   `ttlMs` clears the expiry.
 * - `list` returns keys in ascending order by Unicode code point (UTF-8 byte order). Paging with the returned cursor
 *   yields every key that existed for the whole listing exactly once.
 */
export interface KvEntry<T = unknown> {
  value: T;
  version: number;
}

export interface KvWriteOptions {
  /** Expire the key this many milliseconds after the write. */
  ttlMs?: number;
  /**
   * The caller never lists this key by prefix (it is only read by its own name, like a dedupe claim), so
   * the adapter may skip the bookkeeping `list` needs: Redis then writes the value alone instead of also
   * keeping its sorted-set index. Everything else is unchanged (versions, TTL, conditions, get, delete).
   * A key written unlisted may or may not appear in `list`; one written (again) without it always does.
   */
  unlisted?: boolean;
}

export type KvConditionalResult<T = unknown> =
  | { ok: true; version: number }
  | { ok: false; current: KvEntry<T> | undefined };

/** One of the writes `setIfAbsentWith` makes together with its conditional one. */
export interface KvCompanionWrite {
  key: string;
  value: unknown;
  options?: KvWriteOptions;
}

export interface KvListOptions {
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** Maximum entries in this page (adapters may cap it; default 100). */
  limit?: number;
}

export interface KvListPage<T = unknown> {
  entries: Array<{ key: string } & KvEntry<T>>;
  /** Present when more keys may follow. */
  cursor?: string;
}

export interface KeyValue {
  get<T = unknown>(key: string): Promise<KvEntry<T> | undefined>;
  /** Batch read; the result has one slot per key, `undefined` for absent keys. */
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>>;
  /** Unconditional write; returns the new version. */
  set(key: string, value: unknown, options?: KvWriteOptions): Promise<number>;
  /** Writes only when the key is absent (or expired). Exactly one of many concurrent callers wins. */
  setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>>;
  /**
   * Optional: `setIfAbsent(key, value)` and, only when that wrote, each companion as a `set`, all in one
   * atomic step (nothing or everything is stored; companions get their versions as `set` would give them).
   * A backend that can do this in one round trip implements it (Redis: one script); callers fall back to
   * `setIfAbsent` followed by the `set`s when it is absent, so it changes cost, never semantics.
   */
  setIfAbsentWith?<T = unknown>(
    key: string,
    value: unknown,
    options: KvWriteOptions | undefined,
    companions: readonly KvCompanionWrite[],
  ): Promise<KvConditionalResult<T>>;
  /** Writes only when the key's current version equals `expectedVersion` (0 means "absent"). */
  compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>>;
  /** Deletes the key (only at `expectedVersion` when given); true when something was deleted. */
  delete(key: string, options?: { expectedVersion?: number }): Promise<boolean>;
  list<T = unknown>(prefix: string, options?: KvListOptions): Promise<KvListPage<T>>;
  /** Atomically adds `by` (default 1) to a numeric value (absent counts as 0); returns the new value. */
  increment(key: string, by?: number, options?: KvWriteOptions): Promise<number>;
  /** Round trip to the backend, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
