import { describe, expect, it } from "vitest";
import {
  AwsJsonRestClient,
  AwsServiceError,
  chooseAwsTransport,
  credentialsFromEnv,
  defaultEndpoint,
  isAwsError,
} from "../src/index.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };

/** A fetch that answers from a script and records the requests. */
function scripted(answers: Array<Response | Error>) {
  const requests: Request[] = [];
  const fetch = (async (request: Request) => {
    requests.push(request.clone());
    const next = answers.shift();
    if (!next) throw new Error("no more scripted answers");
    if (next instanceof Error) throw next;
    return next;
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/x-amz-json-1.0", ...headers },
  });

const client = (fetch: typeof globalThis.fetch, service: "dynamodb" | "sqs" = "dynamodb") =>
  new AwsJsonRestClient({ service, region: "eu-west-1", credentials, fetch, retryBaseMs: 1 });

describe("AwsJsonRestClient", () => {
  it("posts the operation to the regional endpoint, signed, and returns the output", async () => {
    const { fetch, requests } = scripted([json(200, { Item: { sk: { S: "a" } } })]);
    const output = await client(fetch).call("GetItem", { TableName: "t", Key: { sk: { S: "a" } } });
    expect(output).toEqual({ Item: { sk: { S: "a" } } });
    const [request] = requests;
    expect(request?.url).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
    expect(request?.method).toBe("POST");
    expect(request?.headers.get("x-amz-target")).toBe("DynamoDB_20120810.GetItem");
    expect(request?.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(request?.headers.get("authorization")).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers.get("x-amz-security-token")).toBe("token");
    expect(await request?.json()).toEqual({ TableName: "t", Key: { sk: { S: "a" } } });
  });

  it("names SQS operations with its own target", async () => {
    const { fetch, requests } = scripted([json(200, { QueueUrl: "u" })]);
    await client(fetch, "sqs").call("GetQueueUrl", { QueueName: "q" });
    expect(requests[0]?.url).toBe("https://sqs.eu-west-1.amazonaws.com/");
    expect(requests[0]?.headers.get("x-amz-target")).toBe("AmazonSQS.GetQueueUrl");
  });

  it("throws an error answer under the SDK's name, with the service's message and the rest of the body", async () => {
    const { fetch, requests } = scripted([
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
    const error = await client(fetch)
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
    const { fetch } = scripted([
      json(400, {
        __type: "com.amazonaws.sqs#QueueDoesNotExist",
        message: "The specified queue does not exist.",
      }),
      new Response("<html>Bad Gateway</html>", { status: 403 }),
    ]);
    const sqs = client(fetch, "sqs");
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
    const { fetch, requests } = scripted([
      json(400, {
        __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        message: "slow down",
      }),
      new TypeError("fetch failed"),
      json(200, {}),
    ]);
    await expect(client(fetch).call("PutItem", { TableName: "t", Item: {} })).resolves.toEqual({});
    expect(requests).toHaveLength(3);
  });

  it("gives up after maxAttempts and throws the last failure", async () => {
    const { fetch, requests } = scripted([
      json(500, { message: "a" }),
      json(503, { message: "b" }),
      json(500, { message: "c" }),
    ]);
    await expect(client(fetch).call("GetItem", {})).rejects.toMatchObject({ message: "c", $fault: "server" });
    expect(requests).toHaveLength(3);
  });

  it("gives TransactWriteItems one idempotency token for all its attempts, unless the caller set one", async () => {
    const { fetch, requests } = scripted([json(500, {}), json(200, {}), json(200, {})]);
    const dynamo = client(fetch);
    await dynamo.call("TransactWriteItems", { TransactItems: [] });
    const tokens = await Promise.all(
      requests.map(async (r) => ((await r.json()) as { ClientRequestToken?: string }).ClientRequestToken),
    );
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    await dynamo.call("TransactWriteItems", { TransactItems: [], ClientRequestToken: "mine" });
    expect(((await requests[2]?.json()) as { ClientRequestToken?: string }).ClientRequestToken).toBe("mine");
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
