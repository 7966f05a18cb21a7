import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { chooseTransport } from "../src/transport.js";

const lambdaEnv = {
  AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_SESSION_TOKEN: "token",
  AWS_REGION: "eu-west-1",
};
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
const sdkClient = { send: async () => ({}) } as unknown as SQSClient;

describe("chooseTransport", () => {
  it('"auto" picks REST with credentials and a region in the environment (a Lambda function), to the regional endpoint', () => {
    expect(chooseTransport({}, lambdaEnv)).toEqual({
      transport: "rest",
      connection: {
        region: "eu-west-1",
        credentials: { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token" },
        endpoint: "https://sqs.eu-west-1.amazonaws.com",
      },
    });
  });

  it('"auto" picks the SDK without credentials or without a region (its provider chain finds roles, SSO, profiles)', () => {
    expect(chooseTransport({}, { AWS_REGION: "eu-west-1" })).toMatchObject({
      transport: "sdk",
      reason: expect.stringMatching(/credentials/),
    });
    expect(chooseTransport({ credentials }, {})).toMatchObject({
      transport: "sdk",
      reason: expect.stringMatching(/region/),
    });
    expect(chooseTransport({}, {})).toMatchObject({ transport: "sdk" });
  });

  it('"auto" picks REST from the options alone, with AWS_DEFAULT_REGION, and the options over the environment', () => {
    expect(chooseTransport({ credentials, region: "us-east-2" }, {})).toMatchObject({
      transport: "rest",
      connection: { region: "us-east-2", credentials },
    });
    expect(chooseTransport({ credentials }, { AWS_DEFAULT_REGION: "ap-south-1" })).toMatchObject({
      transport: "rest",
      connection: { region: "ap-south-1", endpoint: "https://sqs.ap-south-1.amazonaws.com" },
    });
    expect(chooseTransport({ credentials, region: "us-east-2" }, lambdaEnv)).toMatchObject({
      transport: "rest",
      connection: { region: "us-east-2", credentials },
    });
  });

  it("takes the endpoint from the options, else AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL", () => {
    const env = {
      ...lambdaEnv,
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1001",
      AWS_ENDPOINT_URL: "http://127.0.0.1:1002",
    };
    const endpointOf = (options: { endpoint?: string }, from: Record<string, string>) => {
      const choice = chooseTransport(options, from);
      return choice.transport === "rest" ? choice.connection.endpoint : choice.reason;
    };
    expect(endpointOf({ endpoint: "http://127.0.0.1:1000" }, env)).toBe("http://127.0.0.1:1000");
    expect(endpointOf({}, env)).toBe("http://127.0.0.1:1001");
    expect(endpointOf({}, { ...lambdaEnv, AWS_ENDPOINT_URL: "http://127.0.0.1:1002" })).toBe(
      "http://127.0.0.1:1002",
    );
    expect(endpointOf({}, { ...lambdaEnv, AWS_REGION: "cn-north-1" })).toBe(
      "https://sqs.cn-north-1.amazonaws.com.cn",
    );
  });

  it('"auto" leaves FIPS and dual-stack endpoints to the SDK unless an endpoint is given', () => {
    expect(chooseTransport({}, { ...lambdaEnv, AWS_USE_FIPS_ENDPOINT: "true" })).toMatchObject({
      transport: "sdk",
      reason: "FIPS endpoints asked for by the environment",
    });
    expect(chooseTransport({}, { ...lambdaEnv, AWS_USE_DUALSTACK_ENDPOINT: "TRUE" })).toMatchObject({
      transport: "sdk",
    });
    expect(
      chooseTransport(
        { endpoint: "https://sqs-fips.us-east-1.amazonaws.com" },
        {
          ...lambdaEnv,
          AWS_USE_FIPS_ENDPOINT: "true",
        },
      ),
    ).toMatchObject({ transport: "rest" });
  });

  it("uses the SDK for a client passed in, and for transport sdk whatever the environment", () => {
    expect(chooseTransport({ client: sdkClient }, lambdaEnv)).toMatchObject({ transport: "sdk" });
    expect(chooseTransport({ client: sdkClient, transport: "sdk" }, lambdaEnv)).toMatchObject({
      transport: "sdk",
    });
    expect(chooseTransport({ transport: "sdk" }, lambdaEnv)).toMatchObject({ transport: "sdk" });
  });

  it('refuses transport "rest" without credentials or a region, naming what to set, and with an SDK client', () => {
    expect(() => chooseTransport({ transport: "rest" }, {})).toThrow(
      /transport "rest" needs credentials \(the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\) and a region \(the region option, AWS_REGION or AWS_DEFAULT_REGION\)/,
    );
    expect(() => chooseTransport({ transport: "rest", credentials }, {})).toThrow(
      /^SqsQueue: transport "rest" needs a region \(/,
    );
    expect(() => chooseTransport({ transport: "rest" }, { AWS_REGION: "eu-west-1" })).toThrow(TypeError);
    expect(() => chooseTransport({ transport: "rest", client: sdkClient }, lambdaEnv)).toThrow(
      /cannot use an SQSClient passed as client/,
    );
    expect(chooseTransport({ transport: "rest" }, lambdaEnv)).toMatchObject({ transport: "rest" });
  });
});
