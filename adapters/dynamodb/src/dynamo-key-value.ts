import { type AwsJsonClient, isAwsError } from "@aat/adapter-aws-json";
import type {
  Clock,
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
  systemClock,
  toStoredJson,
} from "@aat/core/ports";
import type { AttributeValue, CancellationReason, TransactWriteItem } from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import { ATTR, bucketOf } from "./layout.js";
import type { DynamoOperation, DynamoOperations } from "./operations.js";
import {
  type DynamoKeyValueOptions,
  type DynamoTableOptions,
  MAX_LIST_LIMIT,
  optionsSchema,
  parseOptions,
} from "./options.js";
import { openClient, resolveTransport, type Transport } from "./transport.js";

type Item = Record<string, AttributeValue>;

/** DynamoDB's sort key holds at most 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** DynamoDB's item limit (400 KB, attribute names and values together). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Room for the other attributes (names, bucket, version, expiry) next to the key and the value. */
const ITEM_OVERHEAD_BYTES = 128;
/**
 * How many times a write retries after losing a race against an expiring item (the item expired between
 * the conditional update and the fresh put, or another writer re-created it): a bounded loop of
 * conditional writes, each of which either applies atomically or not at all (docs/decisions.md).
 */
const MAX_WRITE_ATTEMPTS = 16;
/** DynamoDB's limit of writes in one transaction. */
const MAX_TRANSACTION_ITEMS = 100;
/** GetItems of one getMany in flight at once (the SDK's default socket pool holds 50). */
const MAX_PARALLEL_READS = 50;

/**
 * Numbers kept in DynamoDB's N type (so increment is a server-side ADD): those JavaScript writes in plain
 * decimal form, i.e. 1e-7 < |n| < 1e21 (and 0). Others ("1e+21") are kept as JSON text, exactly, but
 * increment refuses them: emulators and the N type's 38-digit decimal arithmetic differ on exponents.
 */
function fitsNumberType(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && !/e/i.test(String(value));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A write's value as item attributes: numbers in `n` (so increment is a server-side ADD), others as JSON. */
interface StoredValue {
  json?: string;
  number?: string;
  bytes: number;
}

/**
 * KeyValue on an Amazon DynamoDB table (docs/adapters.md, "DynamoDB"). One item per key: partition key
 * `pk` = the key's first path segment ("runs/" for "runs/r1"), sort key `sk` = the key, so a prefix
 * listing is one Query. Every write is a single conditional request: setIfAbsent is a put conditioned on
 * the item being absent or expired, compareAndSet an update conditioned on `ver`, increment an update
 * that adds on the server. Expiry: `exp` holds the exact expiry (ms) and every read and condition treats
 * an item past it as absent; `ttl` (seconds) is the table's TTL attribute, so DynamoDB deletes such items
 * later on its own (it does so lazily, within days). All reads are strongly consistent.
 *
 * The `unlisted` write option needs nothing here: the table's sort key is the listing, there is no
 * separate index to skip. Such keys are listed like the others (the port allows it).
 */
export class DynamoKeyValue implements KeyValue {
  readonly tableName: string;
  /** How this adapter reaches DynamoDB: "rest" (HTTPS + SigV4, no SDK loaded) or "sdk". */
  readonly transport: Transport;
  private readonly client: AwsJsonClient;
  private readonly ownsClient: boolean;
  private readonly clock: Clock;
  private readonly defaultListLimit: number;
  private readonly maxListLimit: number;
  private readonly where: string;
  private closed = false;

  constructor(options: DynamoKeyValueOptions) {
    const parsed = parseOptions(optionsSchema, options, "DynamoKeyValue");
    this.tableName = parsed.tableName;
    const plan = resolveTransport(parsed);
    const { client, owned } = openClient(plan);
    this.transport = plan.transport;
    this.client = client;
    this.ownsClient = owned;
    this.clock = parsed.clock ?? systemClock;
    this.maxListLimit = parsed.maxListLimit ?? MAX_LIST_LIMIT;
    this.defaultListLimit = Math.min(parsed.defaultListLimit ?? 100, this.maxListLimit);
    const endpoint = plan.given === undefined ? plan.endpoint : undefined;
    this.where = `table ${parsed.tableName}${endpoint ? ` at ${endpoint}` : ""}`;
  }

  /**
   * Creates the adapter and checks the table exists (creating it first with `createTable: true`): a wrong
   * table name, region or credentials fail here, clearly. The check is a DescribeTable through the
   * adapter's transport; only `createTable: true` loads the AWS SDK (table management uses its waiters).
   */
  static async connect(options: DynamoKeyValueOptions): Promise<DynamoKeyValue> {
    const kv = new DynamoKeyValue(options);
    try {
      if (options.createTable) {
        const { tableName, region, endpoint, credentials, client } = options;
        await createTable({
          tableName,
          ...(region ? { region } : {}),
          ...(endpoint ? { endpoint } : {}),
          ...(credentials ? { credentials } : {}),
          // An SDK client passed in is used; otherwise one is built from the options (and destroyed).
          ...(client && "send" in client ? { client } : {}),
        });
      }
      await kv.ping();
    } catch (error) {
      await kv.close();
      throw error;
    }
    return kv;
  }

  static readonly createTable = createTable;
  static readonly deleteTable = deleteTable;

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    this.check(key, "get");
    return await this.read<T>(key, "get");
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    this.assertOpen();
    if (!Array.isArray(keys)) throw new TypeError("DynamoKeyValue.getMany: keys must be an array of strings");
    for (const key of keys) this.check(key, "getMany");
    // One consistent GetItem per distinct key, at most MAX_PARALLEL_READS at a time (BatchGetItem would
    // need a retry loop for its unprocessed keys; the REST client's agent, unlike the SDK's pool, does
    // not bound sockets).
    const distinct = [...new Set(keys)];
    const limit = pLimit(MAX_PARALLEL_READS);
    const entries = await Promise.all(distinct.map((key) => limit(() => this.read<T>(key, "getMany"))));
    const byKey = new Map(distinct.map((key, index) => [key, entries[index]]));
    return keys.map((key) => {
      const entry = byKey.get(key);
      return entry === undefined
        ? undefined
        : { value: structuredClone(entry.value), version: entry.version };
    });
  }

  async set(key: string, value: unknown, options?: KvWriteOptions): Promise<number> {
    this.check(key, "set");
    const stored = this.encode(key, value, "set");
    const expiresAt = this.expiry(options, `set("${key}")`);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const updated = await this.update(key, "set", stored, expiresAt, {
        version: "if_not_exists(#ver, :zero) + :one",
        condition: "attribute_not_exists(#pk) OR attribute_not_exists(#exp) OR #exp > :now",
      });
      if (updated.ok) return updated.version;
      // The item is there but expired: it counts as absent, so the write starts again at version 1.
      const fresh = await this.putFresh(key, "set", stored, expiresAt);
      if (fresh.ok) return 1;
    }
    throw this.contended("set", key);
  }

  async setIfAbsent<T = unknown>(
    key: string,
    value: unknown,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "setIfAbsent");
    const stored = this.encode(key, value, "setIfAbsent");
    const expiresAt = this.expiry(options, `setIfAbsent("${key}")`);
    const fresh = await this.putFresh(key, "setIfAbsent", stored, expiresAt);
    if (fresh.ok) return { ok: true, version: 1 };
    return { ok: false, current: this.liveEntry<T>(fresh.old, key) };
  }

  /**
   * setIfAbsent of `key` and, only when it writes, a `set` of every companion: one TransactWriteItems,
   * so either all items are written or none. Each companion's update is conditioned on it being absent or
   * live; an expired companion (which must start again at version 1) is deleted first, conditioned on it
   * still being expired, and the transaction is sent again. A transaction that lost a race with another
   * one on the same items (TransactionConflict) is sent again too, at most 16 times in all.
   */
  async setIfAbsentWith<T = unknown>(
    key: string,
    value: unknown,
    options: KvWriteOptions | undefined,
    companions: readonly KvCompanionWrite[],
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "setIfAbsentWith");
    if (!Array.isArray(companions)) {
      throw new TypeError(
        "DynamoKeyValue.setIfAbsentWith: companions must be an array of { key, value, options? }",
      );
    }
    if (companions.length + 1 > MAX_TRANSACTION_ITEMS) {
      throw new RangeError(
        `DynamoKeyValue.setIfAbsentWith("${key}"): ${companions.length} companions, but a DynamoDB transaction holds at most ${MAX_TRANSACTION_ITEMS} writes in all`,
      );
    }
    const seen = new Set([key]);
    const writes = companions.map((companion) => {
      this.check(companion.key, "setIfAbsentWith");
      if (seen.has(companion.key)) {
        throw new TypeError(
          `DynamoKeyValue.setIfAbsentWith("${key}"): key "${companion.key}" is written twice; each key may appear once`,
        );
      }
      seen.add(companion.key);
      return {
        key: companion.key,
        stored: this.encode(companion.key, companion.value, "setIfAbsentWith"),
        expiresAt: this.expiry(companion.options, `setIfAbsentWith("${companion.key}")`),
      };
    });
    const stored = this.encode(key, value, "setIfAbsentWith");
    const expiresAt = this.expiry(options, `setIfAbsentWith("${key}")`);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const items: TransactWriteItem[] = [
        {
          Put: {
            TableName: this.tableName,
            Item: this.freshItem(key, stored, expiresAt),
            ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now",
            ExpressionAttributeNames: { "#pk": ATTR.bucket, "#exp": ATTR.expiresAt },
            ExpressionAttributeValues: { ":now": { N: String(now) } },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        ...writes.map(
          (write): TransactWriteItem => ({
            Update: {
              TableName: this.tableName,
              ...this.updateRequest(write.key, write.stored, write.expiresAt, now, {
                version: "if_not_exists(#ver, :zero) + :one",
                condition: "attribute_not_exists(#pk) OR attribute_not_exists(#exp) OR #exp > :now",
              }),
            },
          }),
        ),
      ];
      try {
        await this.send("TransactWriteItems", { TransactItems: items });
        return { ok: true, version: 1 };
      } catch (error) {
        if (!isAwsError(error, "TransactionCanceledException"))
          throw this.failure("setIfAbsentWith", error, key);
        const reasons = errorDetail<CancellationReason[]>(error, "CancellationReasons") ?? [];
        if (reasons[0]?.Code === "ConditionalCheckFailed" || reasons.length === 0) {
          const old =
            reasons[0]?.Item ??
            (
              await this.send("GetItem", {
                TableName: this.tableName,
                Key: this.keyOf(key),
                ConsistentRead: true,
              })
            ).Item;
          const current = this.liveEntry<T>(old, key);
          if (current !== undefined || reasons.length > 0) return { ok: false, current };
          // No reasons given (some emulators): the key is free, so a companion must have been expired.
          for (const write of writes) await this.deleteExpired(write.key);
          continue;
        }
        // A companion that is there but expired: remove it (only while still expired), then try again.
        for (const [index, reason] of reasons.entries()) {
          if (index > 0 && reason.Code === "ConditionalCheckFailed")
            await this.deleteExpired(writes[index - 1]!.key);
        }
      }
    }
    throw this.contended("setIfAbsentWith", key);
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
    options?: KvWriteOptions,
  ): Promise<KvConditionalResult<T>> {
    this.check(key, "compareAndSet");
    assertVersion(expectedVersion, "compareAndSet");
    if (expectedVersion === 0) return await this.setIfAbsent<T>(key, value, options);
    const stored = this.encode(key, value, "compareAndSet");
    const expiresAt = this.expiry(options, `compareAndSet("${key}")`);
    const updated = await this.update(key, "compareAndSet", stored, expiresAt, {
      version: ":next",
      condition: "#ver = :expected AND (attribute_not_exists(#exp) OR #exp > :now)",
      values: { ":expected": { N: String(expectedVersion) }, ":next": { N: String(expectedVersion + 1) } },
    });
    if (updated.ok) return { ok: true, version: updated.version };
    return { ok: false, current: this.liveEntry<T>(updated.old, key) };
  }

  async delete(key: string, options?: { expectedVersion?: number }): Promise<boolean> {
    this.check(key, "delete");
    const expectedVersion = options?.expectedVersion;
    if (expectedVersion !== undefined) assertVersion(expectedVersion, "delete");
    if (expectedVersion === 0) return false;
    const live = "attribute_exists(#pk) AND (attribute_not_exists(#exp) OR #exp > :now)";
    try {
      await this.send("DeleteItem", {
        TableName: this.tableName,
        Key: this.keyOf(key),
        ConditionExpression: expectedVersion === undefined ? live : `${live} AND #ver = :expected`,
        ExpressionAttributeNames: {
          "#pk": ATTR.bucket,
          "#exp": ATTR.expiresAt,
          ...(expectedVersion === undefined ? {} : { "#ver": ATTR.version }),
        },
        ExpressionAttributeValues: {
          ":now": { N: String(this.clock.now()) },
          ...(expectedVersion === undefined ? {} : { ":expected": { N: String(expectedVersion) } }),
        },
      });
      return true;
    } catch (error) {
      if (isAwsError(error, "ConditionalCheckFailedException")) return false;
      throw this.failure("delete", error, key);
    }
  }

  async list<T = unknown>(prefix: string, options: KvListOptions = {}): Promise<KvListPage<T>> {
    this.assertOpen();
    if (typeof prefix !== "string" || LONE_SURROGATE.test(prefix)) {
      throw new TypeError("DynamoKeyValue.list: prefix must be a string without lone UTF-16 surrogates");
    }
    const limit = this.pageLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, prefix);
    const items = prefix.includes("/")
      ? await this.queryBucket(prefix, after, limit + 1)
      : await this.scanAll(prefix, after, limit + 1);
    const entries = items.slice(0, limit).map((item) => {
      const key = item[ATTR.key]!.S!;
      return { key, ...this.decode<T>(item, key) };
    });
    return items.length > limit
      ? { entries, cursor: encodeListCursor(entries[entries.length - 1]!.key) }
      : { entries };
  }

  async increment(key: string, by = 1, options?: KvWriteOptions): Promise<number> {
    this.check(key, "increment");
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw new TypeError(
        `DynamoKeyValue.increment("${key}"): by must be a finite number, got ${String(by)}`,
      );
    }
    const expiresAt = this.expiry(options, `increment("${key}")`);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const { set, remove, names, values } = this.expiryClauses(expiresAt);
      let result: Item | undefined;
      try {
        const reply = await this.send("UpdateItem", {
          TableName: this.tableName,
          Key: this.keyOf(key),
          UpdateExpression:
            `SET #n = if_not_exists(#n, :zero) + :by, #ver = if_not_exists(#ver, :zero) + :one${set}` +
            (remove.length > 0 ? ` REMOVE ${remove.join(", ")}` : ""),
          ConditionExpression:
            "attribute_not_exists(#pk) OR (attribute_exists(#n) AND (attribute_not_exists(#exp) OR #exp > :now))",
          ExpressionAttributeNames: {
            "#pk": ATTR.bucket,
            "#n": ATTR.number,
            "#ver": ATTR.version,
            "#exp": ATTR.expiresAt,
            ...names,
          },
          ExpressionAttributeValues: {
            ":zero": { N: "0" },
            ":one": { N: "1" },
            ":by": { N: String(by) },
            ":now": { N: String(this.clock.now()) },
            ...values,
          },
          ReturnValues: "UPDATED_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        result = reply.Attributes;
      } catch (error) {
        if (!isAwsError(error, "ConditionalCheckFailedException"))
          throw this.failure("increment", error, key);
        const old = await this.conditionFailure(error, key);
        const current = this.liveEntry(old, key);
        if (current !== undefined) {
          const value = current.value;
          throw new TypeError(
            `DynamoKeyValue.increment("${key}"): the stored value is ${value === null ? "null" : typeof value}` +
              `${typeof value === "number" ? " outside the range this adapter adds on the server (|n| < 1e21, in plain decimal form)" : ""}, not a number it can add to; ` +
              "increment only works on keys that are absent or hold a number",
          );
        }
        // Expired: it counts as absent, so the counter starts again from `by` at version 1.
        const stored = this.encode(key, by, "increment");
        const fresh = await this.putFresh(key, "increment", stored, expiresAt);
        if (fresh.ok) return by;
        continue;
      }
      const total = Number(result?.[ATTR.number]?.N);
      if (!Number.isFinite(total)) {
        throw new Error(`DynamoKeyValue.increment("${key}"): ${this.where} answered without the new value`);
      }
      return total;
    }
    throw this.contended("increment", key);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    try {
      await this.send("DescribeTable", { TableName: this.tableName });
    } catch (error) {
      if (isAwsError(error, "ResourceNotFoundException")) {
        throw new Error(
          `DynamoKeyValue: ${this.where} does not exist. Create it (DynamoKeyValue.createTable, createTable: true, ` +
            "or the table definition in docs/adapters.md) or fix the table name and region",
          { cause: error },
        );
      }
      throw this.failure("ping", error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  // ---------------------------------------------------------------------------------------------------

  /** One DynamoDB operation through the transport, typed by the SDK's shapes. */
  private async send<K extends DynamoOperation>(
    operation: K,
    input: DynamoOperations[K][0],
  ): Promise<DynamoOperations[K][1]> {
    return await this.client.call<DynamoOperations[K][1]>(operation, input);
  }

  private async read<T>(key: string, operation: string): Promise<KvEntry<T> | undefined> {
    try {
      const reply = await this.send("GetItem", {
        TableName: this.tableName,
        Key: this.keyOf(key),
        ConsistentRead: true,
      });
      return this.liveEntry<T>(reply.Item, key);
    } catch (error) {
      throw this.failure(operation, error, key);
    }
  }

  /** A put that only applies when the key is absent or expired; the item starts at version 1. */
  private async putFresh(
    key: string,
    operation: string,
    stored: StoredValue,
    expiresAt: number | undefined,
  ): Promise<{ ok: true } | { ok: false; old: Item | undefined }> {
    const item = this.freshItem(key, stored, expiresAt);
    try {
      await this.send("PutItem", {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: "attribute_not_exists(#pk) OR #exp <= :now",
        ExpressionAttributeNames: { "#pk": ATTR.bucket, "#exp": ATTR.expiresAt },
        ExpressionAttributeValues: { ":now": { N: String(this.clock.now()) } },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      return { ok: true };
    } catch (error) {
      if (!isAwsError(error, "ConditionalCheckFailedException")) throw this.failure(operation, error, key);
      return { ok: false, old: await this.conditionFailure(error, key) };
    }
  }

  /** The item of a key written fresh, at version 1. */
  private freshItem(key: string, stored: StoredValue, expiresAt: number | undefined): Item {
    const item: Item = { ...this.keyOf(key), [ATTR.version]: { N: "1" } };
    if (stored.number !== undefined) item[ATTR.number] = { N: stored.number };
    else item[ATTR.json] = { S: stored.json! };
    if (expiresAt !== undefined) {
      item[ATTR.expiresAt] = { N: String(expiresAt) };
      item[ATTR.ttl] = { N: String(Math.ceil(expiresAt / 1000)) };
    }
    return item;
  }

  /** Key, expressions, names and values of a conditional update of value, version and expiry. */
  private updateRequest(
    key: string,
    stored: StoredValue,
    expiresAt: number | undefined,
    now: number,
    spec: { version: string; condition: string; values?: Item },
  ) {
    const expiry = this.expiryClauses(expiresAt);
    const isNumber = stored.number !== undefined;
    const remove = [isNumber ? "#v" : "#n", ...expiry.remove];
    return onlyUsed({
      Key: this.keyOf(key),
      UpdateExpression: `SET ${isNumber ? "#n" : "#v"} = :value, #ver = ${spec.version}${expiry.set} REMOVE ${remove.join(", ")}`,
      ConditionExpression: spec.condition,
      ExpressionAttributeNames: {
        "#pk": ATTR.bucket,
        "#v": ATTR.json,
        "#n": ATTR.number,
        "#ver": ATTR.version,
        "#exp": ATTR.expiresAt,
        ...expiry.names,
      },
      ExpressionAttributeValues: {
        ":value": isNumber ? { N: stored.number! } : { S: stored.json! },
        ":now": { N: String(now) },
        ...(spec.version.includes(":zero") ? { ":zero": { N: "0" }, ":one": { N: "1" } } : {}),
        ...expiry.values,
        ...spec.values,
      } as Item,
    });
  }

  /** Deletes the item of `key` only while it is expired (it counts as absent already). */
  private async deleteExpired(key: string): Promise<void> {
    try {
      await this.send("DeleteItem", {
        TableName: this.tableName,
        Key: this.keyOf(key),
        ConditionExpression: "#exp <= :now",
        ExpressionAttributeNames: { "#exp": ATTR.expiresAt },
        ExpressionAttributeValues: { ":now": { N: String(this.clock.now()) } },
      });
    } catch (error) {
      if (!isAwsError(error, "ConditionalCheckFailedException"))
        throw this.failure("setIfAbsentWith", error, key);
    }
  }

  /** A conditional update of value, version and expiry. */
  private async update(
    key: string,
    operation: string,
    stored: StoredValue,
    expiresAt: number | undefined,
    spec: { version: string; condition: string; values?: Item },
  ): Promise<{ ok: true; version: number } | { ok: false; old: Item | undefined }> {
    try {
      const reply = await this.send("UpdateItem", {
        TableName: this.tableName,
        ...this.updateRequest(key, stored, expiresAt, this.clock.now(), spec),
        ReturnValues: "UPDATED_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });
      const version = Number(reply.Attributes?.[ATTR.version]?.N);
      if (!Number.isInteger(version)) {
        throw new Error(`${this.where} answered ${operation}("${key}") without the new version`);
      }
      return { ok: true, version };
    } catch (error) {
      if (!isAwsError(error, "ConditionalCheckFailedException")) throw this.failure(operation, error, key);
      return { ok: false, old: await this.conditionFailure(error, key) };
    }
  }

  /**
   * The item a conditional write found. DynamoDB returns it with the failure (ALL_OLD); an emulator that
   * does not gets a consistent read instead.
   */
  private async conditionFailure(error: unknown, key: string): Promise<Item | undefined> {
    const item = errorDetail<Item>(error, "Item");
    if (item !== undefined) return item;
    const reply = await this.send("GetItem", {
      TableName: this.tableName,
      Key: this.keyOf(key),
      ConsistentRead: true,
    });
    return reply.Item;
  }

  /** SET / REMOVE clauses for the expiry: set both attributes with a TTL, remove both without one. */
  private expiryClauses(expiresAt: number | undefined): {
    set: string;
    remove: string[];
    names: Record<string, string>;
    values: Item;
  } {
    const names = { "#exp": ATTR.expiresAt, "#ttl": ATTR.ttl };
    if (expiresAt === undefined) return { set: "", remove: ["#exp", "#ttl"], names, values: {} };
    return {
      set: ", #exp = :exp, #ttl = :ttl",
      remove: [],
      names,
      values: { ":exp": { N: String(expiresAt) }, ":ttl": { N: String(Math.ceil(expiresAt / 1000)) } },
    };
  }

  /** Items of one bucket under the prefix, live ones only, after the cursor, at most `wanted`. */
  private async queryBucket(prefix: string, after: string | undefined, wanted: number): Promise<Item[]> {
    const bucket = bucketOf(prefix);
    const items: Item[] = [];
    let start: Item | undefined = after === undefined ? undefined : { ...this.keyOf(after) };
    do {
      let reply: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        reply = await this.send("Query", {
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: "#pk = :bucket AND begins_with(#sk, :prefix)",
          FilterExpression: "attribute_not_exists(#exp) OR #exp > :now",
          ExpressionAttributeNames: { "#pk": ATTR.bucket, "#sk": ATTR.key, "#exp": ATTR.expiresAt },
          ExpressionAttributeValues: {
            ":bucket": { S: bucket },
            ":prefix": { S: prefix },
            ":now": { N: String(this.clock.now()) },
          },
          Limit: wanted - items.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        });
      } catch (error) {
        throw this.failure("list", error);
      }
      items.push(...(reply.Items ?? []));
      start = reply.LastEvaluatedKey;
    } while (start !== undefined && items.length < wanted);
    return items;
  }

  /**
   * A prefix without "/" can match keys in any bucket: a Scan of the whole table, sorted here. Only for
   * such prefixes (the core always lists under a "<segment>/" prefix); its cost grows with the table.
   */
  private async scanAll(prefix: string, after: string | undefined, wanted: number): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      let reply: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        reply = await this.send("Scan", {
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression:
            prefix === ""
              ? "attribute_not_exists(#exp) OR #exp > :now"
              : "begins_with(#sk, :prefix) AND (attribute_not_exists(#exp) OR #exp > :now)",
          ExpressionAttributeNames: {
            "#exp": ATTR.expiresAt,
            ...(prefix === "" ? {} : { "#sk": ATTR.key }),
          },
          ExpressionAttributeValues: {
            ":now": { N: String(this.clock.now()) },
            ...(prefix === "" ? {} : { ":prefix": { S: prefix } }),
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        });
      } catch (error) {
        throw this.failure("list", error);
      }
      for (const item of reply.Items ?? []) {
        const key = item[ATTR.key]?.S;
        if (key !== undefined && (after === undefined || compareUtf8(key, after) > 0)) items.push(item);
      }
      start = reply.LastEvaluatedKey;
    } while (start !== undefined);
    items.sort((a, b) => compareUtf8(a[ATTR.key]!.S!, b[ATTR.key]!.S!));
    return items.slice(0, wanted);
  }

  private keyOf(key: string): Item {
    return { [ATTR.bucket]: { S: bucketOf(key) }, [ATTR.key]: { S: key } };
  }

  private encode(key: string, value: unknown, operation: string): StoredValue {
    const json = toStoredJson(value, `DynamoKeyValue.${operation}`, key);
    const stored: StoredValue = fitsNumberType(value)
      ? { number: json, bytes: json.length }
      : { json, bytes: Buffer.byteLength(json, "utf8") };
    const total = stored.bytes + 2 * Buffer.byteLength(key, "utf8") + ITEM_OVERHEAD_BYTES;
    if (total > MAX_ITEM_BYTES) {
      throw new RangeError(
        `DynamoKeyValue.${operation}("${key}"): the value is ${stored.bytes} bytes of JSON, over what one DynamoDB ` +
          `item holds (400 KB with its key); nothing was written. Store large payloads elsewhere (e.g. S3) and keep a reference`,
      );
    }
    return stored;
  }

  private decode<T>(item: Item, key: string): KvEntry<T> {
    const version = Number(item[ATTR.version]?.N);
    const number = item[ATTR.number]?.N;
    const json = item[ATTR.json]?.S;
    if (!Number.isInteger(version) || version < 1 || (number === undefined && json === undefined)) {
      throw new Error(
        `DynamoDB item ${JSON.stringify(key)} in ${this.where} has no version or value attributes: ` +
          "it was not written by aat, or edited by hand; rewrite it through the adapter or delete it",
      );
    }
    if (number !== undefined) return { value: Number(number) as T, version };
    try {
      return { value: JSON.parse(json!) as T, version };
    } catch (error) {
      throw new Error(
        `DynamoDB item ${JSON.stringify(key)} in ${this.where} holds a value that is not JSON (${(error as Error).message}); ` +
          "rewrite it through the adapter or delete it",
      );
    }
  }

  /** The entry of an item, or undefined when there is none or it has expired. */
  private liveEntry<T>(item: Item | undefined, key: string): KvEntry<T> | undefined {
    if (item === undefined || item[ATTR.key] === undefined) return undefined;
    const expiresAt = item[ATTR.expiresAt]?.N;
    if (expiresAt !== undefined && Number(expiresAt) <= this.clock.now()) return undefined;
    return this.decode<T>(item, key);
  }

  private expiry(options: KvWriteOptions | undefined, where: string): number | undefined {
    const ttlMs = options?.ttlMs;
    if (ttlMs === undefined) return undefined;
    if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError(
        `DynamoKeyValue.${where}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`,
      );
    }
    return this.clock.now() + Math.ceil(ttlMs);
  }

  private contended(operation: string, key: string): Error {
    return new Error(
      `DynamoKeyValue.${operation}("${key}"): the key expired and was re-created by other writers ${MAX_WRITE_ATTEMPTS} times ` +
        "while this write was retrying; nothing was written by this call. Retry the operation",
    );
  }

  private failure(operation: string, error: unknown, key?: string): Error {
    const message = error instanceof Error ? error.message : String(error);
    return new Error(
      `DynamoKeyValue.${operation}${key === undefined ? "" : `("${key}")`} failed on ${this.where}: ${message}. ` +
        "Check the table name, region and credentials (or AWS_ENDPOINT_URL for an emulator) and that the table exists",
      { cause: error },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("DynamoKeyValue is closed; create a new one");
  }

  private check(key: string, operation: string): void {
    this.assertOpen();
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError(
        `DynamoKeyValue.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
      );
    }
    if (LONE_SURROGATE.test(key)) {
      throw new TypeError(
        `DynamoKeyValue.${operation}: key ${JSON.stringify(key)} has a lone UTF-16 surrogate, which UTF-8 cannot carry`,
      );
    }
    if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
      throw new RangeError(
        `DynamoKeyValue.${operation}: key ${JSON.stringify(key.slice(0, 60))}… is longer than DynamoDB's ${MAX_KEY_BYTES}-byte sort key; use a shorter key`,
      );
    }
  }

  private pageLimit(limit: number | undefined): number {
    return listPageLimit("DynamoKeyValue", limit, this.defaultListLimit, this.maxListLimit);
  }
}

/**
 * Creates the table (on-demand billing, TTL on `ttl`) when it does not exist, and waits until it is
 * active; idempotent. Loads the AWS SDK (its waiters): for tests, provisioning and `createTable: true`.
 */
export async function createTable(options: DynamoTableOptions): Promise<void> {
  const table = await import("./table.js");
  await table.createTable(options);
}

/** Deletes the table and waits until it is gone; a missing table is fine. Loads the AWS SDK. */
export async function deleteTable(options: DynamoTableOptions): Promise<void> {
  const table = await import("./table.js");
  await table.deleteTable(options);
}

/**
 * A field of a service error: the SDK puts the error body's fields on the error itself
 * (`error.CancellationReasons`, `error.Item`), AwsServiceError in `error.details`.
 */
function errorDetail<T>(error: unknown, field: string): T | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const own = (error as Record<string, unknown>)[field];
  if (own !== undefined) return own as T;
  const details = (error as { details?: unknown }).details;
  if (typeof details !== "object" || details === null) return undefined;
  return (details as Record<string, unknown>)[field] as T | undefined;
}

function assertVersion(version: number, operation: string): void {
  assertExpectedVersion("DynamoKeyValue", operation, version);
}

/**
 * DynamoDB refuses expression attribute names and values that no expression uses: drop those the
 * shared name and value maps carry for other kinds of write.
 */
function onlyUsed<
  Input extends {
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  },
>(input: Input): Input {
  const text = `${input.UpdateExpression ?? ""} ${input.ConditionExpression ?? ""}`;
  const used = (placeholder: string) => new RegExp(`${placeholder}(?![A-Za-z0-9_])`).test(text);
  const names = Object.entries(input.ExpressionAttributeNames ?? {}).filter(([name]) => used(name));
  const values = Object.entries(input.ExpressionAttributeValues ?? {}).filter(([name]) => used(name));
  return {
    ...input,
    ExpressionAttributeNames: Object.fromEntries(names),
    ...(values.length > 0 ? { ExpressionAttributeValues: Object.fromEntries(values) } : {}),
  };
}

/** DynamoDB orders string sort keys by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function decodeCursor(cursor: string, prefix: string): string {
  return decodeListCursor("DynamoKeyValue", cursor, prefix);
}
