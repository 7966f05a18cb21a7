import { withMappedStacks } from "@aat/functions-serverless/stack-map";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyResult, Context } from "aws-lambda";
import type { Hono } from "hono";
// hono/aws-lambda is marked as moving to @hono/aws-lambda in Hono 5; that package is not published yet.
import { handle } from "hono/aws-lambda";
import { type AatContext, requestLogging, traceparentOf, withRuntime } from "./middlewares.js";
import { containerRuntime, type LambdaRuntime } from "./runtime.js";

type LambdaHttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * API Gateway HTTP API (payload 2.0) and Lambda Function URL events into the core Hono app: the same
 * /v1 API `npm start` serves. Errors the app does not answer itself become a 500 with the request id,
 * never a stack trace.
 */
export function createHttpHandler(get: () => Promise<LambdaRuntime> = () => containerRuntime()) {
  const adapters = new WeakMap<LambdaRuntime, LambdaHttpHandler>();
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResult>()
    .use(withRuntime(get))
    .use(requestLogging((event) => traceparentOf((event as APIGatewayProxyEventV2).headers)))
    .use({
      name: "aat-access-log",
      after: (request) => {
        const { aat } = request.context as AatContext;
        const http = request.event.requestContext?.http;
        aat.logger.info(
          { method: http?.method, path: request.event.rawPath, status: request.response?.statusCode },
          "http request",
        );
      },
    })
    .use({
      name: "aat-http-errors",
      onError: (request) => {
        const { aat, awsRequestId } = request.context as AatContext;
        const fields = { requestId: awsRequestId, error: request.error ?? undefined };
        // Without a runtime (its build failed: configuration, table or queue) there is no logger yet.
        if (aat) aat.logger.error(fields, "the HTTP handler failed");
        else
          console.error(
            JSON.stringify({
              level: "error",
              ...withMappedStacks(fields),
              msg: "the runtime could not be built",
            }),
          );
        request.response = {
          statusCode: 500,
          headers: { "content-type": "application/json", "x-request-id": awsRequestId },
          body: JSON.stringify({
            error: {
              code: "internal",
              message: "internal error; see the function's logs",
              requestId: awsRequestId,
            },
          }),
        };
      },
    })
    .handler(async (event, context) => {
      const runtime = (context as AatContext).aat;
      let adapter = adapters.get(runtime);
      if (!adapter) {
        adapter = handle(runtime.app as unknown as Hono) as unknown as LambdaHttpHandler;
        adapters.set(runtime, adapter);
      }
      return await adapter(event, context);
    });
}
