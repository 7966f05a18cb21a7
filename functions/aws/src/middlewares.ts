import type { MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import type { LambdaRuntime } from "./runtime.js";

/** The Lambda context with the container's runtime, put there by `withRuntime`. */
export interface AatContext extends Context {
  aat: LambdaRuntime;
}

/**
 * Loads the runtime (configuration, stores, runner) once per container and hands it to the handler on
 * the context; later invocations reuse it. A failed build is retried on the next invocation.
 */
export function withRuntime(
  get: () => Promise<LambdaRuntime>,
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: "aat-runtime",
    before: async (request) => {
      (request.context as AatContext).aat = await get();
    },
  };
}

/** W3C trace context of an HTTP event (API Gateway lower-cases header names in v2 payloads). */
export function traceparentOf(headers: Record<string, string | undefined> | undefined): string | undefined {
  if (!headers) return undefined;
  const value = headers.traceparent ?? headers.Traceparent;
  return value && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(value) ? value : undefined;
}

/**
 * Every log line of the invocation carries the Lambda request id (and the trace id when the caller sent
 * a traceparent), so CloudWatch Logs Insights finds one invocation's lines.
 */
export function requestLogging(
  traceparent: (event: unknown) => string | undefined = () => undefined,
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: "aat-request-logging",
    before: (request) => {
      const { aat, awsRequestId, functionName } = request.context as AatContext;
      const parent = traceparent(request.event);
      aat.logger.bind({
        requestId: awsRequestId,
        function: functionName,
        ...(parent ? { traceId: parent.split("-")[1] } : {}),
      });
    },
  };
}
