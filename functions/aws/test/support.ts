import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";

/** A Lambda context as the runtime passes it (the fields middy and the handlers read). */
export function lambdaContext(requestId = `req-${Math.random().toString(36).slice(2, 10)}`): Context {
  return {
    awsRequestId: requestId,
    functionName: "aat-test",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:aat-test",
    memoryLimitInMB: "512",
    logGroupName: "/aws/lambda/aat-test",
    logStreamName: "2026/11/26/[$LATEST]test",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as T;
}

/** AWS's sample HTTP API v2 event with this request's method, path, headers and body. */
export function httpEvent(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const base = fixture<APIGatewayProxyEventV2>("apigw-http-v2.json");
  const [rawPath = path, rawQueryString = ""] = path.split("?");
  const hasBody = options.body !== undefined;
  const { cookies: _cookies, pathParameters: _params, queryStringParameters: _query, ...rest } = base;
  return {
    ...rest,
    rawPath,
    rawQueryString,
    headers: {
      host: "id.execute-api.us-east-1.amazonaws.com",
      ...(hasBody ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method, path: rawPath } },
    ...(hasBody ? { body: JSON.stringify(options.body) } : { body: undefined }),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}

/** The environment a Lambda function gets for DynamoDB and SQS, pointed at moto (the stores' settings only). */
export function motoStoreEnv(options: {
  moto: string;
  region: string;
  table: string;
  queueName: string;
}): Record<string, string> {
  const { moto, region, table, queueName } = options;
  return {
    AAT_KV_KIND: "dynamodb",
    AAT_DYNAMODB_TABLE: table,
    AAT_DYNAMODB_REGION: region,
    AAT_DYNAMODB_ENDPOINT: moto,
    AAT_QUEUE_KIND: "sqs",
    AAT_SQS_QUEUE_URL: `${moto}/123456789012/${queueName}`,
    AAT_SQS_REGION: region,
    AAT_SQS_ENDPOINT: moto,
  };
}
