import { ManualClock } from "@aat/core";
import { DynamoDBClient, GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoKeyValue } from "../src/index.js";
import {
  awsTestConnection,
  recordingClientFor,
  serialClientFor,
  TRANSPORTS,
  uniqueTableName,
} from "./aws-env.js";

describe.each(TRANSPORTS)("DynamoKeyValue specifics on moto (%s transport)", (transport) => {
  const tableName = uniqueTableName(`kv-${transport}`);
  const raw = new DynamoDBClient(awsTestConnection);
  const connection = { ...awsTestConnection, transport };

  beforeAll(async () => {
    await DynamoKeyValue.createTable({ ...awsTestConnection, tableName });
  });
  afterAll(async () => {
    await DynamoKeyValue.deleteTable({ ...awsTestConnection, tableName });
    raw.destroy();
  });

  it("stores each key in the bucket of its first path segment, so a prefix listing is one Query", async () => {
    const kv = await DynamoKeyValue.connect({ ...connection, tableName });
    try {
      expect(kv.transport).toBe(transport);
      await kv.set("runs/r1/state", { step: 1 });
      await kv.set("runs/r2/state", { step: 2 });
      await kv.set("toplevel", 7);
      const item = await raw.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: "runs/" }, sk: { S: "runs/r1/state" } } }),
      );
      expect(item.Item).toMatchObject({ pk: { S: "runs/" }, ver: { N: "1" }, v: { S: '{"step":1}' } });
      const root = await raw.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: "#" }, sk: { S: "toplevel" } } }),
      );
      expect(root.Item).toMatchObject({ n: { N: "7" } });
      const bucket = await raw.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: "pk = :b",
          ExpressionAttributeValues: { ":b": { S: "runs/" } },
        }),
      );
      expect(bucket.Items?.map((i) => i.sk?.S)).toEqual(["runs/r1/state", "runs/r2/state"]);
      expect((await kv.list("runs/r")).entries.map((e) => e.key)).toEqual(["runs/r1/state", "runs/r2/state"]);
    } finally {
      for (const key of ["runs/r1/state", "runs/r2/state", "toplevel"]) await kv.delete(key);
      await kv.close();
    }
  });

  it("lists prefixes without a '/' across buckets (a Scan), sorted and paged", async () => {
    const kv = await DynamoKeyValue.connect({ ...connection, tableName });
    const keys = ["scanme", "scanme-2", "scanme/a", "scanme/b", "scanmf/c", "scanme0/x"];
    try {
      for (const key of keys) await kv.set(key, key);
      const first = await kv.list("scanme", { limit: 3 });
      expect(first.entries.map((e) => e.key)).toEqual(["scanme", "scanme-2", "scanme/a"]);
      const second = await kv.list("scanme", { limit: 3, cursor: first.cursor! });
      expect(second.entries.map((e) => e.key)).toEqual(["scanme/b", "scanme0/x"]);
      expect(second.cursor).toBeUndefined();
    } finally {
      for (const key of keys) await kv.delete(key);
      await kv.close();
    }
  });

  it("writes the TTL attribute in seconds and hides an expired item DynamoDB has not deleted yet", async () => {
    const clock = new ManualClock(Date.now());
    const kv = await DynamoKeyValue.connect({ ...connection, tableName, clock });
    try {
      expect(await kv.set("ttl/k", "v", { ttlMs: 60_000 })).toBe(1);
      const item = await raw.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: "ttl/" }, sk: { S: "ttl/k" } } }),
      );
      expect(Number(item.Item?.ttl?.N)).toBe(Math.ceil((clock.now() + 60_000) / 1000));
      clock.advance(60_001);
      expect(await kv.get("ttl/k")).toBeUndefined();
      expect((await kv.list("ttl/")).entries).toEqual([]);
      // Still physically there (DynamoDB deletes lazily), yet a write treats it as absent.
      const still = await raw.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: { S: "ttl/" }, sk: { S: "ttl/k" } } }),
      );
      expect(still.Item).toBeDefined();
      expect(await kv.set("ttl/k", "again")).toBe(1);
      expect(await kv.delete("ttl/k")).toBe(true);
    } finally {
      await kv.close();
    }
  });

  it("keeps numbers JavaScript writes with an exponent as JSON, and refuses to increment them", async () => {
    const kv = await DynamoKeyValue.connect({ ...connection, tableName });
    try {
      await kv.set("num/huge", 1e300);
      await kv.set("num/big", 1e21);
      expect((await kv.get("num/huge"))?.value).toBe(1e300);
      expect((await kv.get("num/big"))?.value).toBe(1e21);
      await expect(kv.increment("num/huge")).rejects.toThrow(/outside the range/);
      await expect(kv.increment("num/big")).rejects.toThrow(/outside the range/);
      expect((await kv.get("num/big"))?.value).toBe(1e21);
      await kv.set("num/ok", 0.1);
      expect(await kv.increment("num/ok", 2.5)).toBe(2.6);
    } finally {
      await kv.delete("num/huge");
      await kv.delete("num/big");
      await kv.delete("num/ok");
      await kv.close();
    }
  });

  it("refuses values over the item size limit and keys over the sort key limit, writing nothing", async () => {
    const kv = await DynamoKeyValue.connect({ ...connection, tableName });
    try {
      await expect(kv.set("big/one", "x".repeat(410 * 1024))).rejects.toThrow(/400 KB/);
      expect(await kv.get("big/one")).toBeUndefined();
      await expect(kv.set(`long/${"k".repeat(1100)}`, 1)).rejects.toThrow(/1024-byte sort key/);
    } finally {
      await kv.close();
    }
  });

  it("setIfAbsentWith writes the key and its companions together, or nothing", async () => {
    const clock = new ManualClock(Date.now());
    const kv = await DynamoKeyValue.connect({ ...connection, tableName, clock });
    const keys = ["tx/run/1", "tx-index/1", "tx-active/1", "tx/old"];
    try {
      await kv.set("tx-active/1", "stale", { ttlMs: 1000 });
      await kv.set("tx/old", { n: 1 });
      clock.advance(1001);
      const written = await kv.setIfAbsentWith("tx/run/1", { first: true }, undefined, [
        { key: "tx-index/1", value: "r1", options: { unlisted: true } },
        { key: "tx-active/1", value: 5, options: { ttlMs: 60_000 } },
        { key: "tx/old", value: { n: 2 } },
      ]);
      expect(written).toEqual({ ok: true, version: 1 });
      expect(await kv.getMany(keys)).toEqual([
        { value: { first: true }, version: 1 },
        { value: "r1", version: 1 },
        // It had expired: it starts again at version 1, like a set of an absent key.
        { value: 5, version: 1 },
        { value: { n: 2 }, version: 2 },
      ]);

      const again = await kv.setIfAbsentWith("tx/run/1", { first: false }, undefined, [
        { key: "tx-index/1", value: "changed" },
      ]);
      expect(again).toEqual({ ok: false, current: { value: { first: true }, version: 1 } });
      expect(await kv.get("tx-index/1")).toEqual({ value: "r1", version: 1 });
      await expect(kv.setIfAbsentWith("tx/x", 1, undefined, [{ key: "tx/x", value: 2 }])).rejects.toThrow(
        /written twice/,
      );
    } finally {
      for (const key of keys) await kv.delete(key);
      await kv.close();
    }
  });

  it("setIfAbsentWith lets exactly one of 10 concurrent starts write its companions", async () => {
    const client = serialClientFor(transport);
    const kv = await DynamoKeyValue.connect({ tableName, client });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          kv.setIfAbsentWith("race-tx/run", { by: index }, undefined, [
            { key: "race-tx/mark", value: index },
          ]),
        ),
      );
      const winners = results.flatMap((result, index) => (result.ok ? [index] : []));
      expect(winners).toHaveLength(1);
      expect(await kv.get("race-tx/mark")).toEqual({ value: winners[0], version: 1 });
    } finally {
      await kv.delete("race-tx/run");
      await kv.delete("race-tx/mark");
      await kv.close();
      client.destroy();
    }
  });

  it("takes the item a refused write found, and a cancelled transaction's reasons, from the error", async () => {
    const { client, operations } = recordingClientFor(transport);
    const kv = await DynamoKeyValue.connect({ tableName, client });
    try {
      await kv.set("found/a", 1);
      operations.length = 0;
      const current = { value: 1, version: 1 };
      expect(await kv.setIfAbsent("found/a", 2)).toEqual({ ok: false, current });
      expect(await kv.compareAndSet("found/a", 3, 5)).toEqual({ ok: false, current });
      expect(await kv.setIfAbsentWith("found/a", 2, undefined, [{ key: "found/b", value: 1 }])).toEqual({
        ok: false,
        current,
      });
      // No GetItem after any of them: the item came with the error (ALL_OLD), as the reasons did.
      expect(operations).toEqual(["PutItem", "UpdateItem", "TransactWriteItems"]);
    } finally {
      await kv.delete("found/a");
      await kv.close();
      client.destroy();
    }
  });

  it("creates a missing table on connect with createTable: true", async () => {
    const created = uniqueTableName(`created-${transport}`);
    const kv = await DynamoKeyValue.connect({ ...connection, tableName: created, createTable: true });
    try {
      expect(kv.transport).toBe(transport);
      expect(await kv.set("made/k", 1)).toBe(1);
      expect(await kv.get("made/k")).toEqual({ value: 1, version: 1 });
    } finally {
      await kv.close();
      await DynamoKeyValue.deleteTable({ ...awsTestConnection, tableName: created });
    }
  });

  it("says which table is missing on connect", async () => {
    await expect(
      DynamoKeyValue.connect({ ...connection, tableName: uniqueTableName("missing") }),
    ).rejects.toThrow(/does not exist\. Create it/);
    await expect(DynamoKeyValue.connect({ ...connection, tableName: "x" })).rejects.toThrow(
      /tableName must be 3-255/,
    );
  });
});
