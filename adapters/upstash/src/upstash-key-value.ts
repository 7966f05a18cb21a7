import {
  DEFAULT_KEY_PREFIX,
  isWellFormed,
  type KeyValueScripts,
  keyPrefixSchema,
  keyValueScripts,
  Namespace,
  parseOptions,
  ttlArgument,
  unpackEntry,
} from "@aat/adapter-redis/kv-shared";
import type {
  KeyValue,
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
import { Redis } from "@upstash/redis";
import { z } from "zod";

const MAX_LIST_LIMIT = 1000;
/** Index entries one `list` call may examine per entry it returns (as in RedisKeyValue). */
const LIST_SCAN_PER_ENTRY = 10;

const optionsSchema = z
  .object({
    /** The REST URL (UPSTASH_REDIS_REST_URL), e.g. https://eu1-xyz.upstash.io. */
    url: z.url({ protocol: /^https?$/, error: "url must be the http(s) REST URL of the Upstash database" }),
    /** The REST token (UPSTASH_REDIS_REST_TOKEN). */
    token: z.string().min(1, "token must be the database's REST token (UPSTASH_REDIS_REST_TOKEN)"),
    /** Namespace of every key (default "aat"); the same layout as RedisKeyValue, so the data is portable. */
    keyPrefix: keyPrefixSchema.optional(),
    defaultListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
    maxListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
  })
  .strict();

export type UpstashKeyValueOptions = z.input<typeof optionsSchema>;

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
const packedReply = z.string().nullable();

type Script = KeyValueScripts[keyof KeyValueScripts];

/**
 * KeyValue on Upstash Redis over its REST API (@upstash/redis: one HTTPS request per call, so it works
 * from functions without a TCP pool). The semantics and the stored layout are RedisKeyValue's: each
 * write is the same Lua script (EVALSHA, EVAL on NOSCRIPT), SET NX PX inside the setIfAbsent script, and
 * a version check inside the compareAndSet script. Entries written by one adapter read back in the other.
 */
export class UpstashKeyValue implements KeyValue {
  readonly keyPrefix: string;
  readonly url: string;
  private readonly client: Redis;
  private readonly namespace: Namespace;
  private readonly scripts: KeyValueScripts;
  private readonly defaultListLimit: number;
  private readonly maxListLimit: number;
  private closed = false;

  constructor(options: UpstashKeyValueOptions) {
    const parsed = parseOptions(optionsSchema, options, "UpstashKeyValue");
    this.url = parsed.url;
    // Raw strings back (no JSON guessing), and no retries of writes: a retried script could apply twice.
    this.client = new Redis({
      url: parsed.url,
      token: parsed.token,
      automaticDeserialization: false,
      retry: false,
      enableTelemetry: false,
    });
    this.keyPrefix = parsed.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.namespace = new Namespace(this.keyPrefix);
    this.scripts = keyValueScripts();
    this.maxListLimit = parsed.maxListLimit ?? MAX_LIST_LIMIT;
    this.defaultListLimit = Math.min(parsed.defaultListLimit ?? 100, this.maxListLimit);
  }

  /** Creates the adapter and pings the database: a wrong URL or token fails here, clearly. */
  static async connect(options: UpstashKeyValueOptions): Promise<UpstashKeyValue> {
    const kv = new UpstashKeyValue(options);
    await kv.ping();
    return kv;
  }

  /** How many times a script was sent in full because the server did not have it cached. */
  get scriptLoads(): number {
    return Object.values(this.scripts).reduce((sum, script) => sum + script.loads, 0);
  }

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    this.check(key, "get");
    const packed = packedReply.parse(
      await this.command("get", () => this.client.get<string>(this.namespace.value(key))),
    );
    return packed === null ? undefined : this.unpack<T>(packed, key);
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    this.assertOpen();
    if (!Array.isArray(keys))
      throw new TypeError("UpstashKeyValue.getMany: keys must be an array of strings");
    if (keys.length === 0) return [];
    for (const key of keys) this.check(key, "getMany");
    const names = keys.map((key) => this.namespace.value(key));
    const packed = z
      .array(packedReply)
      .parse(await this.command("getMany", () => this.client.mget<Array<string | null>>(names)));
    return packed.map((value, index) => (value === null ? undefined : this.unpack<T>(value, keys[index]!)));
  }

  async set(key: string, value: unknown, options?: KvWriteOptions): Promise<number> {
    this.check(key, "set");
    const json = toStoredJson(value, "UpstashKeyValue.set", key);
    const ttl = ttlArgument(options?.ttlMs, `UpstashKeyValue.set("${key}")`);
    return versionReply.parse(await this.script("set", this.scripts.set, key, ttl, json));
  }

  async setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "setIfAbsent");
    const json = toStoredJson(value, "UpstashKeyValue.setIfAbsent", key);
    const ttl = ttlArgument(options?.ttlMs, `UpstashKeyValue.setIfAbsent("${key}")`);
    const reply = conditionalReply.parse(
      await this.script("setIfAbsent", this.scripts.setIfAbsent, key, ttl, json),
    );
    return this.conditional<T>(reply, key, 1);
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "compareAndSet");
    assertVersion(expectedVersion, "compareAndSet");
    const json = toStoredJson(value, "UpstashKeyValue.compareAndSet", key);
    const ttl = ttlArgument(options?.ttlMs, `UpstashKeyValue.compareAndSet("${key}")`);
    const reply = conditionalReply.parse(
      await this.script("compareAndSet", this.scripts.compareAndSet, key, ttl, json, String(expectedVersion)),
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
    this.assertOpen();
    if (typeof prefix !== "string" || !isWellFormed(prefix)) {
      throw new TypeError("UpstashKeyValue.list: prefix must be a string without lone UTF-16 surrogates");
    }
    const limit = this.pageLimit(options.limit);
    const after = options.cursor === undefined ? "" : decodeCursor(options.cursor, prefix);
    const { index, expiries, valuePrefix } = this.namespace;
    const reply = listReply.parse(
      await this.run(
        "list",
        this.scripts.list,
        [index, expiries],
        [valuePrefix, prefix, after, String(limit), String(limit * LIST_SCAN_PER_ENTRY)],
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
      throw new TypeError(
        `UpstashKeyValue.increment("${key}"): by must be a finite number, got ${String(by)}`,
      );
    }
    const ttl = ttlArgument(options?.ttlMs, `UpstashKeyValue.increment("${key}")`);
    const [ok, text] = incrementReply.parse(
      await this.script("increment", this.scripts.increment, key, ttl, String(by)),
    );
    if (ok === 1) return Number(text);
    const { value } = this.unpack(text, key);
    throw new TypeError(
      `UpstashKeyValue.increment("${key}"): the stored value is ${value === null ? "null" : typeof value}, not a number; ` +
        "increment only works on keys that are absent or hold a number",
    );
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.command("ping", () => this.client.ping());
  }

  /** Nothing to release (each call is one HTTP request); later calls fail clearly. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** A write script: KEYS = [value key, index, expiries], ARGV = [key, value prefix, third, …rest]. */
  private async script(
    operation: string,
    script: Script,
    key: string,
    third: string,
    ...rest: string[]
  ): Promise<unknown> {
    const { index, expiries, valuePrefix } = this.namespace;
    return await this.run(
      operation,
      script,
      [this.namespace.value(key), index, expiries],
      [key, valuePrefix, third, ...rest],
      key,
    );
  }

  /** EVALSHA, and EVAL (which caches the script on the server) only when the server answers NOSCRIPT. */
  private async run(
    operation: string,
    script: Script,
    keys: string[],
    args: string[],
    key?: string,
  ): Promise<unknown> {
    try {
      try {
        return await this.client.evalsha(script.sha1, keys, args);
      } catch (error) {
        // @upstash/redis words it "Command failed: NOSCRIPT …": look for the code anywhere.
        if (!(error instanceof Error) || !/\bNOSCRIPT\b/.test(error.message)) throw error;
        script.loads++;
        return await this.client.eval(script.source, keys, args);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.includes("AAT_NOT_A_KV_VALUE")) {
        throw new Error(
          `Upstash key ${this.namespace.value(key ?? "")} on ${this.url} has no <version>| header: ` +
            "it was not written by aat, or edited by hand; rewrite it through the adapter or delete it",
        );
      }
      if (message.includes("AAT_NOT_FINITE")) {
        throw new RangeError(
          `UpstashKeyValue.${operation}("${key}"): the sum is not a finite number; nothing was written`,
        );
      }
      throw this.failure(operation, error);
    }
  }

  private async command<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  private failure(operation: string, error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    return new Error(
      `UpstashKeyValue.${operation} failed against ${this.url}: ${message}. ` +
        "Check the REST URL and token (UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN) and that the database is reachable",
      { cause: error },
    );
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
    return unpackEntry<T>(packed, () => `Upstash key ${this.namespace.value(key)} on ${this.url}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("UpstashKeyValue is closed; create a new one");
  }

  private check(key: string, operation: string): void {
    this.assertOpen();
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(
        `UpstashKeyValue.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
      );
    }
    if (!isWellFormed(key)) {
      throw new TypeError(
        `UpstashKeyValue.${operation}: key ${JSON.stringify(key)} has a lone UTF-16 surrogate, which UTF-8 cannot carry`,
      );
    }
  }

  private pageLimit(limit: number | undefined): number {
    return listPageLimit("UpstashKeyValue", limit, this.defaultListLimit, this.maxListLimit);
  }
}

function assertVersion(version: number, operation: string): void {
  assertExpectedVersion("UpstashKeyValue", operation, version);
}

function decodeCursor(cursor: string, prefix: string): string {
  return decodeListCursor("UpstashKeyValue", cursor, prefix);
}
