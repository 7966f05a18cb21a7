import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { coreTracer } from "../telemetry/tracing.js";
import type { ApiEnv } from "./deps.js";

/**
 * A server span around each API request, named `METHOD /route/:param` once the route is known. A
 * caller's `traceparent` header is honoured, so a client's trace continues into the run it starts.
 * With no tracer provider registered this is one no-op span and no context switch per request.
 */
export function traceRequests(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const headers: Record<string, string> = {};
    const traceparent = c.req.header("traceparent");
    if (traceparent !== undefined) {
      headers.traceparent = traceparent;
      const tracestate = c.req.header("tracestate");
      if (tracestate !== undefined) headers.tracestate = tracestate;
    }
    const parent = traceparent === undefined ? context.active() : propagation.extract(ROOT_CONTEXT, headers);
    const method = c.req.method;
    const span = coreTracer().startSpan(
      `${method} ${c.req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": method, "url.path": c.req.path },
      },
      parent,
    );
    if (!span.isRecording()) {
      await next();
      return;
    }
    try {
      await context.with(trace.setSpan(parent, span), next);
      // The last matched route is the handler's (the middlewares matched wildcards before it).
      const route = routePath(c, -1);
      if (route && !route.endsWith("*")) {
        span.updateName(`${method} ${route}`);
        span.setAttribute("http.route", route);
      }
      const status = c.res.status;
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (error) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : "error",
      });
      throw error;
    } finally {
      span.end();
    }
  };
}
