import type { AwsJsonClient } from "@aat/adapter-aws-json";
import { type DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { resolveTransport } from "../src/index.js";
import { SdkJsonClient } from "../src/sdk-client.js";

const lambdaEnv = {
  AWS_ACCESS_KEY_ID: "AKID",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_SESSION_TOKEN: "token",
  AWS_REGION: "eu-west-1",
};
const credentials = { accessKeyId: "AKID2", secretAccessKey: "secret2" };

describe("resolveTransport", () => {
  it("auto is REST with the credentials and region Lambda puts in the environment", () => {
    expect(resolveTransport({}, lambdaEnv)).toEqual({
      transport: "rest",
      region: "eu-west-1",
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token" },
      endpoint: "https://dynamodb.eu-west-1.amazonaws.com",
    });
    const { AWS_REGION: _region, ...noRegion } = lambdaEnv;
    expect(resolveTransport({}, { ...noRegion, AWS_DEFAULT_REGION: "us-west-2" })).toMatchObject({
      transport: "rest",
      region: "us-west-2",
    });
  });

  it("auto is REST with credentials and region options, whatever the environment holds", () => {
    expect(resolveTransport({ credentials, region: "us-east-1" }, {})).toEqual({
      transport: "rest",
      region: "us-east-1",
      credentials,
      endpoint: "https://dynamodb.us-east-1.amazonaws.com",
    });
    expect(resolveTransport({ region: "us-east-1" }, lambdaEnv)).toMatchObject({ region: "us-east-1" });
  });

  it("auto is the SDK (its provider chain) when credentials or the region are not known", () => {
    expect(resolveTransport({}, {})).toEqual({ transport: "sdk" });
    expect(resolveTransport({ region: "us-east-1" }, {})).toEqual({ transport: "sdk", region: "us-east-1" });
    const { AWS_REGION: _region, ...noRegion } = lambdaEnv;
    expect(resolveTransport({}, noRegion)).toEqual({ transport: "sdk" });
    expect(resolveTransport({}, { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKID" })).toEqual({
      transport: "sdk",
    });
    expect(resolveTransport({}, { ...lambdaEnv, AWS_ACCESS_KEY_ID: "" })).toEqual({ transport: "sdk" });
  });

  it("auto is the SDK when the environment asks for FIPS or dual-stack endpoints and names none", () => {
    expect(resolveTransport({}, { ...lambdaEnv, AWS_USE_FIPS_ENDPOINT: "true" })).toEqual({
      transport: "sdk",
    });
    expect(resolveTransport({}, { ...lambdaEnv, AWS_USE_DUALSTACK_ENDPOINT: "TRUE" })).toEqual({
      transport: "sdk",
    });
    expect(
      resolveTransport({}, { ...lambdaEnv, AWS_USE_FIPS_ENDPOINT: "true", AWS_ENDPOINT_URL: "http://x:1" }),
    ).toMatchObject({ transport: "rest", endpoint: "http://x:1" });
    expect(() =>
      resolveTransport({ transport: "rest" }, { ...lambdaEnv, AWS_USE_FIPS_ENDPOINT: "true" }),
    ).toThrow(/does not derive FIPS endpoints/);
  });

  it("takes the REST endpoint from the option, AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL", () => {
    const env = {
      ...lambdaEnv,
      AWS_ENDPOINT_URL_DYNAMODB: "http://dynamo:1",
      AWS_ENDPOINT_URL: "http://all:2",
    };
    expect(resolveTransport({ endpoint: "http://option:3" }, env)).toMatchObject({
      endpoint: "http://option:3",
    });
    expect(resolveTransport({}, env)).toMatchObject({ endpoint: "http://dynamo:1" });
    expect(resolveTransport({}, { ...lambdaEnv, AWS_ENDPOINT_URL: "http://all:2" })).toMatchObject({
      endpoint: "http://all:2",
    });
    expect(resolveTransport({ region: "cn-north-1", credentials }, {})).toMatchObject({
      endpoint: "https://dynamodb.cn-north-1.amazonaws.com.cn",
    });
  });

  it('"rest" without credentials or region is a TypeError naming what to set', () => {
    expect(() => resolveTransport({ transport: "rest" }, {})).toThrow(
      /needs credentials \(the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\) and a region \(the region option, AWS_REGION or AWS_DEFAULT_REGION\)/,
    );
    expect(() => resolveTransport({ transport: "rest", credentials }, {})).toThrow(TypeError);
    expect(() => resolveTransport({ transport: "rest", credentials }, {})).not.toThrow(/credentials/);
    expect(() => resolveTransport({ transport: "rest", region: "us-east-1" }, {})).toThrow(
      /needs credentials/,
    );
  });

  it('"sdk" passes only the options given: the SDK resolves the rest itself', () => {
    expect(resolveTransport({ transport: "sdk" }, lambdaEnv)).toEqual({ transport: "sdk" });
    expect(
      resolveTransport({ transport: "sdk", credentials, region: "us-east-1", endpoint: "http://e:1" }, {}),
    ).toEqual({ transport: "sdk", credentials, region: "us-east-1", endpoint: "http://e:1" });
  });

  it("a client passed in decides the transport; a contradicting transport option is a TypeError", () => {
    const sdkClient = { send: async () => ({}) } as unknown as DynamoDBClient;
    const jsonClient: AwsJsonClient = { call: async <O>() => ({}) as O, destroy() {} };
    expect(resolveTransport({ client: sdkClient }, lambdaEnv)).toEqual({
      transport: "sdk",
      given: sdkClient,
    });
    expect(resolveTransport({ client: jsonClient }, {})).toEqual({ transport: "rest", given: jsonClient });
    expect(() => resolveTransport({ client: sdkClient, transport: "rest" }, lambdaEnv)).toThrow(
      /cannot use the client passed in, an SDK DynamoDBClient/,
    );
    expect(() => resolveTransport({ client: jsonClient, transport: "sdk" }, {})).toThrow(
      /cannot use the client passed in, an AwsJsonClient/,
    );
  });
});

describe("SdkJsonClient", () => {
  it("sends each operation as the SDK's command and answers its output without $metadata", async () => {
    const sent: unknown[] = [];
    let destroyed = false;
    const fake = {
      send: async (command: unknown) => {
        sent.push(command);
        return { $metadata: { httpStatusCode: 200 }, Item: { pk: { S: "a/" } } };
      },
      destroy: () => {
        destroyed = true;
      },
    } as unknown as DynamoDBClient;
    const client = SdkJsonClient.wrap(fake);
    const input = { TableName: "t", Key: { pk: { S: "a/" } } };
    expect(await client.call("GetItem", input)).toEqual({ Item: { pk: { S: "a/" } } });
    await client.call("TransactWriteItems", { TransactItems: [] });
    expect(sent[0]).toBeInstanceOf(GetItemCommand);
    expect((sent[0] as GetItemCommand).input).toEqual(input);
    expect(sent[1]).toBeInstanceOf(TransactWriteItemsCommand);
    await expect(client.call("DropTable", {})).rejects.toThrow(/does not send DropTable/);
    // A client the caller passed stays open.
    client.destroy();
    expect(destroyed).toBe(false);
  });
});
