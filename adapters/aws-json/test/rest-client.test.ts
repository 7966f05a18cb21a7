import { describe, expect, it } from "vitest";
import {
  AwsJsonRestClient,
  AwsServiceError,
  chooseAwsTransport,
  credentialsFromEnv,
  defaultEndpoint,
  type HttpSend,
  isAwsError,
} from "../src/index.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

/** A transport that answers from a script and records the signed requests. */
function scripted(answers: Array<Answer | Error>) {
  const requests: Array<{ url: string; headers: Record<string, string>; body: unknown }> = [];
  const send: HttpSend = async ({ url, headers, body }) => {
    requests.push({ url: url.href, headers, body: JSON.parse(body) });
    const next = answers.shift();
    if (!next) throw new Error("no more scripted answers");
    if (next instanceof Error) throw next;
    return {
      status: next.status,
      headers: next.headers ?? {},
      body: typeof next.body === "string" ? next.body : JSON.stringify(next.body),
    };
  };
  return { send, requests };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  body,
  headers,
});

/** What node's http client throws when a socket breaks. */
const reset = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

const client = (send: HttpSend, service: "dynamodb" | "sqs" = "dynamodb") =>
  new AwsJsonRestClient({ service, region: "eu-west-1", credentials, send, retryBaseMs: 1 });

describe("AwsJsonRestClient", () => {
  it("posts the operation to the regional endpoint, signed, and returns the output", async () => {
    const { send, requests } = scripted([json(200, { Item: { sk: { S: "a" } } })]);
    const output = await client(send).call("GetItem", { TableName: "t", Key: { sk: { S: "a" } } });
    expect(output).toEqual({ Item: { sk: { S: "a" } } });
    const [request] = requests;
    expect(request?.url).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
    expect(request?.headers["X-Amz-Target"] ?? request?.headers["x-amz-target"]).toBe(
      "DynamoDB_20120810.GetItem",
    );
    expect(request?.headers["content-type"]).toBe("application/x-amz-json-1.0");
    expect(request?.headers.Authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers["X-Amz-Security-Token"]).toBe("token");
    expect(request?.body).toEqual({ TableName: "t", Key: { sk: { S: "a" } } });
  });

  it("names SQS operations with its own target", async () => {
    const { send, requests } = scripted([json(200, { QueueUrl: "u" })]);
    await client(send, "sqs").call("GetQueueUrl", { QueueName: "q" });
    expect(requests[0]?.url).toBe("https://sqs.eu-west-1.amazonaws.com/");
    expect(requests[0]?.headers["x-amz-target"]).toBe("AmazonSQS.GetQueueUrl");
  });

  it("throws an error answer under the SDK's name, with the service's message and the rest of the body", async () => {
    const { send, requests } = scripted([
      json(
        400,
        {
          __type: "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
          message: "Transaction cancelled",
          CancellationReasons: [{ Code: "ConditionalCheckFailed" }],
        },
        { "x-amzn-requestid": "r1" },
      ),
    ]);
    const error = await client(send)
      .call("TransactWriteItems", { TransactItems: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsServiceError);
    const failure = error as AwsServiceError;
    expect(failure.name).toBe("TransactionCanceledException");
    expect(failure.message).toBe("Transaction cancelled");
    expect(failure.details.CancellationReasons).toEqual([{ Code: "ConditionalCheckFailed" }]);
    expect(failure.$metadata).toEqual({ httpStatusCode: 400, requestId: "r1" });
    expect(isAwsError(failure, "ConditionalCheckFailedException", "TransactionCanceledException")).toBe(true);
    expect(requests).toHaveLength(1); // a refused condition is an answer, not retried
  });

  it("reads SQS's error type (com.amazonaws.sqs#QueueDoesNotExist) and a body that is not JSON", async () => {
    const { send } = scripted([
      json(400, {
        __type: "com.amazonaws.sqs#QueueDoesNotExist",
        message: "The specified queue does not exist.",
      }),
      { status: 403, body: "<html>Bad Gateway</html>" },
    ]);
    const sqs = client(send, "sqs");
    await expect(sqs.call("GetQueueUrl", { QueueName: "x" })).rejects.toMatchObject({
      name: "QueueDoesNotExist",
      message: "The specified queue does not exist.",
    });
    await expect(sqs.call("GetQueueUrl", { QueueName: "x" })).rejects.toMatchObject({
      name: "Http403",
      message: "GetQueueUrl answered HTTP 403: <html>Bad Gateway</html>",
    });
  });

  it("retries throttling, 5xx and network failures, then answers", async () => {
    const { send, requests } = scripted([
      json(400, {
        __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        message: "slow down",
      }),
      reset(),
      json(200, {}),
    ]);
    await expect(client(send).call("PutItem", { TableName: "t", Item: {} })).resolves.toEqual({});
    expect(requests).toHaveLength(3);
  });

  it("does not retry what is not a network failure (a bug, an unreadable answer)", async () => {
    const { send, requests } = scripted([new Error("not a system error"), { status: 200, body: "{oops" }]);
    const dynamo = client(send);
    await expect(dynamo.call("GetItem", {})).rejects.toThrow("not a system error");
    await expect(dynamo.call("GetItem", {})).rejects.toThrow(SyntaxError);
    expect(requests).toHaveLength(2);
  });

  it("gives up after maxAttempts and throws the last failure", async () => {
    const { send, requests } = scripted([
      json(500, { message: "a" }),
      json(503, { message: "b" }),
      json(500, { message: "c" }),
    ]);
    await expect(client(send).call("GetItem", {})).rejects.toMatchObject({ message: "c", $fault: "server" });
    expect(requests).toHaveLength(3);
  });

  it("gives TransactWriteItems one idempotency token for all its attempts, unless the caller set one", async () => {
    const { send, requests } = scripted([json(500, {}), json(200, {}), json(200, {})]);
    const dynamo = client(send);
    await dynamo.call("TransactWriteItems", { TransactItems: [] });
    const tokens = requests.map((r) => (r.body as { ClientRequestToken?: string }).ClientRequestToken);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    await dynamo.call("TransactWriteItems", { TransactItems: [], ClientRequestToken: "mine" });
    expect(requests[2]?.body).toMatchObject({ ClientRequestToken: "mine" });
  });
});

describe("defaultEndpoint and credentialsFromEnv", () => {
  it("uses the China partition's domain in cn- regions", () => {
    expect(defaultEndpoint("sqs", "cn-north-1")).toBe("https://sqs.cn-north-1.amazonaws.com.cn");
    expect(defaultEndpoint("dynamodb", "us-east-1")).toBe("https://dynamodb.us-east-1.amazonaws.com");
  });

  it("reads static credentials (as Lambda sets them), or none without both key and secret", () => {
    expect(
      credentialsFromEnv({ AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" }),
    ).toEqual({
      accessKeyId: "a",
      secretAccessKey: "s",
      sessionToken: "t",
    });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: "a" })).toBeUndefined();
  });
});

describe("chooseAwsTransport", () => {
  const lambdaEnv = { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "s", AWS_REGION: "eu-west-1" };

  it("picks REST with credentials and a region, each service's endpoint variable first", () => {
    expect(chooseAwsTransport("dynamodb", "T", {}, lambdaEnv)).toEqual({
      transport: "rest",
      connection: {
        region: "eu-west-1",
        credentials: { accessKeyId: "a", secretAccessKey: "s" },
        endpoint: "https://dynamodb.eu-west-1.amazonaws.com",
      },
    });
    const env = { ...lambdaEnv, AWS_ENDPOINT_URL_SQS: "http://sqs:1", AWS_ENDPOINT_URL: "http://any:2" };
    expect(chooseAwsTransport("sqs", "T", {}, env)).toMatchObject({
      connection: { endpoint: "http://sqs:1" },
    });
    expect(chooseAwsTransport("dynamodb", "T", {}, env)).toMatchObject({
      connection: { endpoint: "http://any:2" },
    });
  });

  it("leaves the SDK to find what is missing, and refuses rest without it or with a FIPS endpoint it cannot derive", () => {
    expect(chooseAwsTransport("sqs", "T", {}, { AWS_REGION: "eu-west-1" })).toMatchObject({
      transport: "sdk",
    });
    expect(chooseAwsTransport("sqs", "T", { transport: "sdk" }, lambdaEnv)).toMatchObject({
      transport: "sdk",
    });
    expect(() => chooseAwsTransport("sqs", "SqsQueue", { transport: "rest" }, {})).toThrow(
      /^SqsQueue: transport "rest" needs credentials .* and a region/,
    );
    const fips = { ...lambdaEnv, AWS_USE_FIPS_ENDPOINT: "true" };
    expect(chooseAwsTransport("dynamodb", "T", {}, fips)).toMatchObject({ transport: "sdk" });
    expect(() => chooseAwsTransport("dynamodb", "T", { transport: "rest" }, fips)).toThrow(/FIPS endpoints/);
    expect(chooseAwsTransport("dynamodb", "T", { endpoint: "https://x" }, fips)).toMatchObject({
      transport: "rest",
    });
  });
});
