import type {
  KeyValue,
  KvCompanionWrite,
  KvConditionalResult,
  KvEntry,
  KvListOptions,
  KvListPage,
  KvWriteOptions,
} from "@aat/core";
import {
  assertExpectedVersion,
  decodeListCursor,
  encodeListCursor,
  listPageLimit,
  toStoredJson,
} from "@aat/core/ports";
import { z } from "zod";
import { RedisConnection } from "./connection.js";
import { checkConnectionChoice, connectionFields } from "./connection-options.js";
import { type KeyValueScripts, keyValueScripts } from "./kv-scripts.js";
import { DEFAULT_KEY_PREFIX, keyPrefixSchema, Namespace } from "./namespace.js";
import { isWellFormed, parseOptions, ttlArgument } from "./options.js";
import { damagedEntry, unpackEntry } from "./stored-value.js";

const MAX_LIST_LIMIT = 1000;
/** setIfAbsentWith purges due expiry entries at most this often per client (see `purgeLimit`). */
const PURGE_INTERVAL_MS = 100;
const MAX_PURGE = 1024;

const optionsSchema = z
  .object({
    ...connectionFields,
    /** Namespace of every key, and the Redis Cluster hash tag `{keyPrefix}` (default "aat"). */
    keyPrefix: keyPrefixSchema,
    defaultListLimit: z.number().int().positive().max(MAX_LIST_LIMIT),
    maxListLimit: z.number().int().positive().max(MAX_LIST_LIMIT),
    clock: z.never({
      error:
        "RedisKeyValue takes no clock: Redis expires keys on the server's own clock, which a test clock cannot move",
    }),
  })
  .partial()
  .strict()
  .superRefine(checkConnectionChoice);

export type RedisKeyValueOptions = z.input<typeof optionsSchema>;

/** Index entries one `list` call may examine per entry it returns, before it hands back a cursor early. */
const LIST_SCAN_PER_ENTRY = 10;

const conditionalReply = z.union([
  z.tuple([z.literal(1)]),
  z.tuple([z.literal(1), z.number().int()]),
  z.tuple([z.literal(0)]),
  z.tuple([z.literal(0), z.string()]),
]);
const incrementReply = z.tuple([z.union([z.literal(0), z.literal(1)]), z.string()]);
const versionReply = z.number().int().positive();
const deleteReply = z.union([z.literal(0), z.literal(1)]);
const listReply = z.array(z.string());
const startReply = z.union([
  z.tuple([z.literal(1)]),
  z.tuple([z.literal(0)]),
  z.tuple([z.literal(0), z.string()]),
  z.tuple([z.literal(-1), z.string()]),
]);
const startReplies = z.array(startReply);
type StartReply = z.output<typeof startReply>;

/** setIfAbsentWith calls one script call carries at most (bounds its run time and argument count). */
const MAX_START_BATCH = 64;

/** One setIfAbsentWith call as an item of the script. */
interface StartItem {
  /** Redis names: the key's, then its companions'. */
  names: string[];
  /** The script's per-item arguments. */
  args: string[];
  listed: boolean;
}

/** A setIfAbsentWith call waiting for the end of the event-loop turn (see `setIfAbsentWith`). */
interface QueuedStart extends StartItem {
  settle(reply: StartReply | undefined): void;
  fail(error: unknown): void;
}

/**
 * KeyValue on Redis. Each key is one string `<version>|<json>` under `{keyPrefix}:v:`; every write is one
 * Lua script (sent by SHA) that checks and bumps the version, sets or clears the TTL (PX), and keeps a
 * sorted-set index of keys so `list` can return them in order with cursors, which SCAN cannot (a write
 * with `unlisted` skips the index: the script is then the version check and one SET). All keys
 * share the hash tag `{keyPrefix}`, so the adapter works on Redis Cluster (one slot per namespace).
 */
export class RedisKeyValue implements KeyValue {
  readonly keyPrefix: string;
  private readonly connection: RedisConnection;
  private readonly namespace: Namespace;
  private readonly scripts: KeyValueScripts;
  private readonly defaultListLimit: number;
  private readonly maxListLimit: number;
  /** False once the server refused `SET … NX GET` (Redis before 7.0). */
  private setNxGet = true;
  /** setIfAbsentWith's expiry purge: when it may run next, and the writes that skipped it since. */
  private purgeDueAt = 0;
  private writesSincePurge = 0;
  private queuedStarts: QueuedStart[] = [];

  /** Opens (or borrows) a client, connecting on first use; `connect` also checks the server answers. */
  constructor(options: RedisKeyValueOptions) {
    const parsed = parseOptions(optionsSchema, options, "RedisKeyValue");
    this.connection = new RedisConnection(parsed, "RedisKeyValue");
    this.keyPrefix = parsed.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.namespace = new Namespace(this.keyPrefix);
    this.scripts = keyValueScripts();
    this.maxListLimit = parsed.maxListLimit ?? MAX_LIST_LIMIT;
    this.defaultListLimit = Math.min(parsed.defaultListLimit ?? 100, this.maxListLimit);
  }

  /** Creates the adapter and pings the server: a wrong URL, password or TLS setting fails here, clearly. */
  static async connect(options: RedisKeyValueOptions): Promise<RedisKeyValue> {
    const kv = new RedisKeyValue(options);
    await kv.connection.verify();
    return kv;
  }

  /** `redis://user:***@host:port`: where this adapter stores, without the password. */
  get server(): string {
    return this.connection.description;
  }

  /** How many times a script had to be sent in full because the server did not have it cached. */
  get scriptLoads(): number {
    return Object.values(this.scripts).reduce((sum, script) => sum + script.loads, 0);
  }

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    this.check(key, "get");
    const packed = await this.command("get", () => this.connection.client.get(this.namespace.value(key)));
    return packed === null ? undefined : this.unpack<T>(packed, key);
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    this.connection.assertOpen();
    if (!Array.isArray(keys)) throw new TypeError("RedisKeyValue.getMany: keys must be an array of strings");
    if (keys.length === 0) return [];
    for (const key of keys) this.check(key, "getMany");
    // One MGET: a single round trip, and legal on a cluster because every key has the namespace's tag.
    const names = keys.map((key) => this.namespace.value(key));
    const packed = await this.command("getMany", () => this.connection.client.mget(names));
    return packed.map((value, index) => (value === null ? undefined : this.unpack<T>(value, keys[index]!)));
  }

  async set(key: string, value: unknown, options?: KvWriteOptions): Promise<number> {
    this.check(key, "set");
    const json = toStoredJson(value, "RedisKeyValue.set", key);
    const ttl = ttlArgument(options?.ttlMs, `RedisKeyValue.set("${key}")`);
    const script = options?.unlisted === true ? this.scripts.unlistedSet : this.scripts.set;
    const reply = await this.script("set", script, key, ttl, json);
    return versionReply.parse(reply);
  }

  async setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "setIfAbsent");
    const json = toStoredJson(value, "RedisKeyValue.setIfAbsent", key);
    const ttl = ttlArgument(options?.ttlMs, `RedisKeyValue.setIfAbsent("${key}")`);
    if (options?.unlisted === true && this.setNxGet) {
      const written = await this.plainSetIfAbsent<T>(key, ttl, json);
      if (written !== undefined) return written;
    }
    const reply = conditionalReply.parse(
      await this.script(
        "setIfAbsent",
        options?.unlisted === true ? this.scripts.unlistedSetIfAbsent : this.scripts.setIfAbsent,
        key,
        ttl,
        json,
      ),
    );
    return this.conditional<T>(reply, key, 1);
  }

  /**
   * setIfAbsent and, when it wrote, the companions' sets in one Lua script: one round trip for what would
   * otherwise be 1 + companions.length. Keys must be distinct.
   *
   * Calls made in the same event-loop turn (say, the run starts of webhook deliveries read in one poll)
   * go to Redis together as one script call after the turn (`setImmediate`): group commit, so a busy
   * server pays one round trip and one script invocation per batch instead of per call. Each call is
   * still its own atomic write with its own result; an idle caller waits one loop turn at most.
   */
  setIfAbsentWith<T = unknown>(
    key: string,
    value: unknown,
    options: KvWriteOptions | undefined,
    companions: readonly KvCompanionWrite[],
  ): Promise<KvConditionalResult<T>> {
    let item: StartItem;
    try {
      item = this.startItem(key, value, options, companions);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<KvConditionalResult<T>>((resolve, reject) => {
      const settle = (reply: StartReply | undefined) => {
        try {
          resolve(this.startResult<T>(reply, key));
        } catch (error) {
          reject(error);
        }
      };
      this.queuedStarts.push({ ...item, settle, fail: reject });
      if (this.queuedStarts.length === 1) setImmediate(() => this.flushStarts());
    });
  }

  /** One setIfAbsentWith call as the script's item: its keys and arguments, checked and serialised. */
  private startItem(
    key: string,
    value: unknown,
    options: KvWriteOptions | undefined,
    companions: readonly KvCompanionWrite[],
  ): StartItem {
    this.check(key, "setIfAbsentWith");
    if (!Array.isArray(companions)) {
      throw new TypeError(
        "RedisKeyValue.setIfAbsentWith: companions must be an array of { key, value, options? }",
      );
    }
    const names: string[] = [this.namespace.value(key)];
    const args: string[] = [
      key,
      ttlArgument(options?.ttlMs, `RedisKeyValue.setIfAbsentWith("${key}")`),
      `1|${toStoredJson(value, "RedisKeyValue.setIfAbsentWith", key)}`,
      options?.unlisted === true ? "1" : "",
      String(companions.length),
    ];
    let listed = options?.unlisted !== true;
    const seen = new Set([key]);
    for (const companion of companions) {
      this.check(companion.key, "setIfAbsentWith");
      if (seen.has(companion.key)) {
        throw new TypeError(
          `RedisKeyValue.setIfAbsentWith("${key}"): key "${companion.key}" is written twice; each key may appear once`,
        );
      }
      seen.add(companion.key);
      names.push(this.namespace.value(companion.key));
      args.push(
        companion.key,
        ttlArgument(companion.options?.ttlMs, `RedisKeyValue.setIfAbsentWith("${companion.key}")`),
        `1|${toStoredJson(companion.value, "RedisKeyValue.setIfAbsentWith", companion.key)}`,
        companion.options?.unlisted === true ? "1" : "",
      );
      if (companion.options?.unlisted !== true) listed = true;
    }
    return { names, args, listed };
  }

  /** Sends what setIfAbsentWith queued, MAX_START_BATCH items per script call. */
  private flushStarts(): void {
    const queued = this.queuedStarts;
    this.queuedStarts = [];
    for (let at = 0; at < queued.length; at += MAX_START_BATCH) {
      void this.sendStarts(queued.slice(at, at + MAX_START_BATCH));
    }
  }

  private async sendStarts(items: readonly QueuedStart[]): Promise<void> {
    const { index, expiries, valuePrefix } = this.namespace;
    const [first, ...rest] = items as [QueuedStart, ...QueuedStart[]];
    const names = [first.names[0]!, index, expiries, ...first.names.slice(1)];
    for (const item of rest) names.push(...item.names);
    // Only a listed write purges (the script skips it otherwise): asked only then, so none is lost.
    const purge = items.some((item) => item.listed) ? this.purgeLimit() : "0";
    const args = [String(items.length), valuePrefix, purge];
    for (const item of items) args.push(...item.args);
    let replies: z.output<typeof startReplies>;
    try {
      replies = startReplies.parse(
        await this.scripts.setIfAbsentWith.run(this.connection.client, [...names, ...args], names.length),
      );
    } catch (error) {
      const failure = error instanceof z.ZodError ? error : this.connection.failure("setIfAbsentWith", error);
      for (const item of items) item.fail(failure);
      return;
    }
    for (const [i, item] of items.entries()) item.settle(replies[i]);
  }

  private startResult<T>(reply: StartReply | undefined, key: string): KvConditionalResult<T> {
    if (reply === undefined) {
      throw new Error(`RedisKeyValue.setIfAbsentWith("${key}"): the script returned no reply for this write`);
    }
    if (reply[0] === -1) {
      throw damagedEntry(() => `Redis key ${reply[1]} on ${this.server}`, "has no <version>| header");
    }
    return this.conditional<T>(reply, key, 1);
  }

  /**
   * How many due expiry entries this setIfAbsentWith may purge: "0" (none) unless PURGE_INTERVAL_MS
   * has passed since the last purge of this client, then 16 for each write since (as if each had
   * purged its 16, capped). A webhook's run start is the hot path, and a purge that finds nothing due
   * was two of its script's dozen Redis commands (the clock and the range query); expired entries left
   * a little longer are harmless, as listings skip and drop them.
   */
  private purgeLimit(): string {
    const now = Date.now();
    if (now < this.purgeDueAt) {
      this.writesSincePurge++;
      return "0";
    }
    this.purgeDueAt = now + PURGE_INTERVAL_MS;
    const limit = Math.min(16 * (this.writesSincePurge + 1), MAX_PURGE);
    this.writesSincePurge = 0;
    return String(limit);
  }

  /**
   * An unlisted setIfAbsent needs no index, so it is one plain `SET key value [PX ttl] NX GET` (Redis
   * 7.0+): written when the reply is nil, else the reply is the current value. Redis runs a plain SET
   * several times cheaper than a script doing the same. Undefined when the server refuses NX with GET
   * (before 7.0): the script is used from then on.
   */
  private async plainSetIfAbsent<T>(
    key: string,
    ttl: string,
    json: string,
  ): Promise<KvConditionalResult<T> | undefined> {
    const args = [this.namespace.value(key), `1|${json}`, ...(ttl === "" ? [] : ["PX", ttl]), "NX", "GET"];
    let previous: unknown;
    try {
      previous = await this.connection.client.call("SET", ...args);
    } catch (error) {
      if (error instanceof Error && /syntax error/i.test(error.message)) {
        this.setNxGet = false;
        return undefined;
      }
      throw this.connection.failure("setIfAbsent", error);
    }
    if (previous === null) return { ok: true, version: 1 };
    if (typeof previous !== "string") {
      throw new Error(
        `RedisKeyValue.setIfAbsent("${key}"): unexpected reply ${JSON.stringify(previous)} to SET NX GET`,
      );
    }
    return { ok: false, current: this.unpack<T>(previous, key) };
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "compareAndSet");
    assertVersion(expectedVersion, "compareAndSet");
    const json = toStoredJson(value, "RedisKeyValue.compareAndSet", key);
    const ttl = ttlArgument(options?.ttlMs, `RedisKeyValue.compareAndSet("${key}")`);
    const reply = conditionalReply.parse(
      options?.unlisted === true
        ? // No index to keep: the one-key script, which Redis runs faster.
          await this.runScript("compareAndSet", this.scripts.unlistedCompareAndSetOne, key, [
            this.namespace.value(key),
            ttl,
            json,
            expectedVersion,
          ])
        : await this.script("compareAndSet", this.scripts.compareAndSet, key, ttl, json, expectedVersion),
    );
    return this.conditional<T>(reply, key, expectedVersion + 1);
  }

  async delete(key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    this.check(key, "delete");
    const expectedVersion = options?.expectedVersion;
    if (expectedVersion !== undefined) assertVersion(expectedVersion, "delete");
    const reply = await this.script("delete", this.scripts.delete, key, expectedVersion?.toString() ?? "");
    return deleteReply.parse(reply) === 1;
  }

  async list<T = unknown>(prefix: string, options: KvListOptions = {}): Promise<KvListPage<T>> {
    this.connection.assertOpen();
    if (typeof prefix !== "string" || !isWellFormed(prefix)) {
      throw new TypeError("RedisKeyValue.list: prefix must be a string without lone UTF-16 surrogates");
    }
    const limit = this.pageLimit(options.limit);
    const after = options.cursor === undefined ? "" : decodeCursor(options.cursor, prefix);
    const { index, expiries, valuePrefix } = this.namespace;
    const reply = listReply.parse(
      await this.command("list", () =>
        this.scripts.list.run(this.connection.client, [
          index,
          expiries,
          valuePrefix,
          prefix,
          after,
          limit,
          limit * LIST_SCAN_PER_ENTRY,
        ]),
      ),
    );
    // An odd reply ends with where an early stop left off; otherwise it is key, value pairs.
    const resumeAfter = reply.length % 2 === 1 ? reply[reply.length - 1] : undefined;
    const pairs = Math.floor(reply.length / 2);
    const entries: KvListPage<T>["entries"] = [];
    for (let pair = 0; pair < Math.min(pairs, limit); pair++) {
      const key = reply[pair * 2]!;
      entries.push({ key, ...this.unpack<T>(reply[pair * 2 + 1]!, key) });
    }
    if (pairs > limit) return { entries, cursor: encodeListCursor(entries[entries.length - 1]!.key) };
    if (resumeAfter !== undefined) return { entries, cursor: encodeListCursor(resumeAfter) };
    return { entries };
  }

  async increment(key: string, by = 1, options?: KvWriteOptions): Promise<number> {
    this.check(key, "increment");
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw new TypeError(`RedisKeyValue.increment("${key}"): by must be a finite number, got ${String(by)}`);
    }
    const ttl = ttlArgument(options?.ttlMs, `RedisKeyValue.increment("${key}")`);
    const [ok, text] = incrementReply.parse(
      await this.script(
        "increment",
        options?.unlisted === true ? this.scripts.unlistedIncrement : this.scripts.increment,
        key,
        ttl,
        String(by),
      ),
    );
    if (ok === 1) return Number(text);
    const { value } = this.unpack(text, key);
    throw new TypeError(
      `RedisKeyValue.increment("${key}"): the stored value is ${value === null ? "null" : typeof value}, not a number; ` +
        "increment only works on keys that are absent or hold a number",
    );
  }

  async ping(): Promise<void> {
    this.connection.assertOpen();
    await this.command("ping", () => this.connection.client.ping());
  }

  /** Closes the client if this adapter opened it; a client passed as `client` stays open. */
  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Runs a write script: KEYS = [value key, index, expiries], ARGV = [key, value prefix, third, …rest]. */
  private async script(
    operation: string,
    script: KeyValueScripts[keyof KeyValueScripts],
    key: string,
    third: string,
    ...rest: Array<string | number>
  ): Promise<unknown> {
    const { index, expiries, valuePrefix } = this.namespace;
    const keysAndArgs = [this.namespace.value(key), index, expiries, key, valuePrefix, third, ...rest];
    return this.runScript(operation, script, key, keysAndArgs);
  }

  /** Runs `script` with its keys and arguments, turning its error replies into the adapter's errors. */
  private async runScript(
    operation: string,
    script: KeyValueScripts[keyof KeyValueScripts],
    key: string,
    keysAndArgs: Array<string | number>,
  ): Promise<unknown> {
    try {
      return await script.run(this.connection.client, keysAndArgs);
    } catch (error) {
      const message = error instanceof Error ? error.message : "";
      if (message.includes("AAT_NOT_A_KV_VALUE")) {
        throw damagedEntry(
          () => `Redis key ${this.namespace.value(key)} on ${this.server}`,
          "has no <version>| header",
        );
      }
      if (message.includes("AAT_NOT_FINITE")) {
        throw new RangeError(
          `RedisKeyValue.${operation}("${key}"): the sum is not a finite number; nothing was written`,
        );
      }
      throw this.connection.failure(operation, error);
    }
  }

  private async command<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.connection.failure(operation, error);
    }
  }

  private conditional<T>(
    reply: z.output<typeof conditionalReply>,
    key: string,
    writtenVersion: number,
  ): KvConditionalResult<T> {
    if (reply[0] === 1) return { ok: true, version: reply[1] ?? writtenVersion };
    return { ok: false, current: reply[1] === undefined ? undefined : this.unpack<T>(reply[1], key) };
  }

  private unpack<T>(packed: string, key: string): KvEntry<T> {
    return unpackEntry<T>(packed, () => `Redis key ${this.namespace.value(key)} on ${this.server}`);
  }

  private check(key: string, operation: string): void {
    this.connection.assertOpen();
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(
        `RedisKeyValue.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
      );
    }
    if (!isWellFormed(key)) {
      throw new TypeError(
        `RedisKeyValue.${operation}: key ${JSON.stringify(key)} has a lone UTF-16 surrogate, which UTF-8 cannot carry`,
      );
    }
  }

  private pageLimit(limit: number | undefined): number {
    return listPageLimit("RedisKeyValue", limit, this.defaultListLimit, this.maxListLimit);
  }
}

function assertVersion(version: number, operation: string): void {
  assertExpectedVersion("RedisKeyValue", operation, version);
}

function decodeCursor(cursor: string, prefix: string): string {
  return decodeListCursor("RedisKeyValue", cursor, prefix);
}
