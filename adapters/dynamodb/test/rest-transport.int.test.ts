import { AwsJsonRestClient } from "@aat/adapter-aws-json";
import { motoUrl } from "@aat/core/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DynamoKeyValue } from "../src/index.js";

/*
 * The cold-start promise of the REST transport: connecting and every KeyValue operation on it never
 * load @aws-sdk/client-dynamodb. The mock only records that the SDK module was loaded (and hands out the
 * real one), so this file must not import the SDK itself: the table is made with the REST client.
 */
const sdk = vi.hoisted(() => ({ loaded: false }));
vi.mock("@aws-sdk/client-dynamodb", async (importOriginal) => {
  sdk.loaded = true;
  return await importOriginal();
});

const region = "us-east-1";
const endpoint = motoUrl();
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const tableName = `aat-kv-rest-${process.pid}-${Date.now().toString(36)}`;
const admin = new AwsJsonRestClient({ service: "dynamodb", region, endpoint, credentials });

/** What Lambda puts in a function's environment (moto's endpoint besides). */
function lambdaLikeEnv(): void {
  vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
  vi.stubEnv("AWS_SESSION_TOKEN", "session-token");
  vi.stubEnv("AWS_REGION", region);
  vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", endpoint);
}

function noCredentialsEnv(): void {
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
    vi.stubEnv(name, undefined);
}

describe("DynamoKeyValue transport choice on moto", () => {
  beforeAll(async () => {
    await admin.call("CreateTable", {
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    });
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await admin.call("DeleteTable", { TableName: tableName });
  });

  it("auto picks REST with credentials and a region in the environment, and never loads the AWS SDK", async () => {
    lambdaLikeEnv();
    const kv = await DynamoKeyValue.connect({ tableName });
    try {
      expect(kv.transport).toBe("rest");
      expect(await kv.set("rest/a", { n: 1 })).toBe(1);
      // A refused conditional write: the item comes back in the error's details (ALL_OLD).
      expect(await kv.setIfAbsent("rest/a", "other")).toEqual({
        ok: false,
        current: { value: { n: 1 }, version: 1 },
      });
      expect(await kv.compareAndSet("rest/a", { n: 2 }, 1)).toEqual({ ok: true, version: 2 });
      expect(await kv.compareAndSet("rest/a", { n: 3 }, 1)).toEqual({
        ok: false,
        current: { value: { n: 2 }, version: 2 },
      });
      // A cancelled transaction: its reasons come from the error's details.
      expect(await kv.setIfAbsentWith("rest/a", "x", undefined, [{ key: "rest/b", value: 1 }])).toEqual({
        ok: false,
        current: { value: { n: 2 }, version: 2 },
      });
      expect(await kv.setIfAbsentWith("rest/c", "c", undefined, [{ key: "rest/b", value: 1 }])).toEqual({
        ok: true,
        version: 1,
      });
      expect(await kv.increment("rest/n", 2)).toBe(2);
      await expect(kv.increment("rest/a")).rejects.toThrow(/not a number it can add to/);
      expect(await kv.getMany(["rest/b", "rest/missing", "rest/c"])).toEqual([
        { value: 1, version: 1 },
        undefined,
        { value: "c", version: 1 },
      ]);
      expect((await kv.list("rest/")).entries.map((entry) => entry.key)).toEqual([
        "rest/a",
        "rest/b",
        "rest/c",
        "rest/n",
      ]);
      expect((await kv.list("rest")).entries).toHaveLength(4);
      for (const key of ["rest/a", "rest/b", "rest/c", "rest/n"]) expect(await kv.delete(key)).toBe(true);
      expect(await kv.delete("rest/a")).toBe(false);
    } finally {
      await kv.close();
    }
    await expect(DynamoKeyValue.connect({ tableName: `${tableName}-missing` })).rejects.toThrow(
      /does not exist\. Create it/,
    );
    expect(sdk.loaded).toBe(false);
  });

  it('transport "rest" without credentials names what to set', () => {
    noCredentialsEnv();
    expect(() => new DynamoKeyValue({ tableName, region, endpoint, transport: "rest" })).toThrow(
      /transport "rest" needs credentials \(the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/,
    );
  });

  it("auto picks the SDK without credentials in the environment, loading it on the first call", async () => {
    noCredentialsEnv();
    const chained = new DynamoKeyValue({ tableName, region, endpoint });
    expect(chained.transport).toBe("sdk");
    await chained.close();
    expect(sdk.loaded).toBe(false);

    const kv = await DynamoKeyValue.connect({ tableName, region, endpoint, credentials, transport: "sdk" });
    try {
      expect(kv.transport).toBe("sdk");
      expect(sdk.loaded).toBe(true);
      expect(await kv.set("sdk/a", 1)).toBe(1);
      expect(await kv.delete("sdk/a")).toBe(true);
    } finally {
      await kv.close();
    }
  });
});
