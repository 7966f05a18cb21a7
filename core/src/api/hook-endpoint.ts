import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { AuditAnnotation } from "../auth/audit-middleware.js";
import { coreTracer } from "../telemetry/tracing.js";
import type { ApiContext } from "./context.js";
import { toApiProblem } from "./errors.js";
import { deliverHook, HOOK_AUDIT_ACTION } from "./hook-delivery.js";
import { ApiProblem, PROBLEM_MEDIA_TYPE } from "./problem.js";
import { requestIdFrom } from "./request-id.js";

/** A webhook delivery as a plain HTTP server sees it (no web `Request`). */
export interface HookHttpRequest {
  /** The request path, `/v1/hooks/<triggerId>` (the problem's `instance`). */
  path: string;
  triggerId: string;
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** The declared Content-Length (the caller serves only requests that declare one). */
  contentLength: number;
  body(): Promise<Uint8Array>;
}

/** The answer to write: status, headers (lower-case names) and the JSON text. */
export interface HookHttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const ROUTE = "/v1/hooks/:triggerId";

/**
 * POST /v1/hooks/:triggerId without Hono: what the app's middleware chain does for this public route
 * (tracing span, request id, body limit, audit, problem+json errors) around the same `deliverHook` the
 * Hono route calls. The Node runtime answers the common shape of a delivery with it, ahead of Hono,
 * because the web `Request`/`Response` conversion and middleware chain were a fifth of a delivery's CPU;
 * functions/node/test/hook-fast-path.test.ts checks that both paths answer alike.
 */
export class HookEndpoint {
  constructor(private readonly ctx: ApiContext) {}

  handle(request: HookHttpRequest): Promise<HookHttpAnswer> {
    const traceparent = request.header("traceparent");
    let parent = context.active();
    if (traceparent !== undefined) {
      const carrier: Record<string, string> = { traceparent };
      const tracestate = request.header("tracestate");
      if (tracestate !== undefined) carrier.tracestate = tracestate;
      parent = propagation.extract(ROOT_CONTEXT, carrier);
    }
    const span = coreTracer().startSpan(
      `POST ${request.path}`,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": "POST", "url.path": request.path } },
      parent,
    );
    if (!span.isRecording()) return this.answer(request);
    return context.with(trace.setSpan(parent, span), async () => {
      try {
        const answer = await this.answer(request);
        span.updateName(`POST ${ROUTE}`);
        span.setAttribute("http.route", ROUTE);
        span.setAttribute("http.response.status_code", answer.status);
        if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return answer;
      } finally {
        span.end();
      }
    });
  }

  private async answer(request: HookHttpRequest): Promise<HookHttpAnswer> {
    const { deps } = this.ctx;
    const requestId = requestIdFrom(request.header("x-request-id"));
    // The app's body limit sits before its audit middleware: a refused size is not audited there either.
    if (request.contentLength > deps.config.server.bodyLimitBytes) {
      return problemAnswer(
        new ApiProblem(413, {
          kind: "payload-too-large",
          detail: `the request body is larger than ${deps.config.server.bodyLimitBytes} bytes (server.bodyLimitBytes, AAT_SERVER_BODY_LIMIT_BYTES)`,
        }),
        request.path,
        requestId,
      );
    }
    let annotation: AuditAnnotation | undefined;
    let answer: HookHttpAnswer;
    try {
      const result = await deliverHook(this.ctx, {
        triggerId: request.triggerId,
        header: (name) => request.header(name.toLowerCase()),
        body: () => request.body(),
        requestId,
        principalId: undefined,
        annotate: (given) => {
          annotation = given;
        },
      });
      answer = {
        status: 202,
        headers: { "content-type": "application/json", "x-request-id": requestId },
        body: JSON.stringify(result),
      };
    } catch (error) {
      answer = this.failure(error, request.path, requestId);
    }
    await this.audit(request, requestId, answer.status, annotation);
    return answer;
  }

  /** As the app's error handler: known errors as problems, anything else a logged 500. */
  private failure(error: unknown, path: string, requestId: string): HookHttpAnswer {
    const known = toApiProblem(error);
    if (known) return problemAnswer(known, path, requestId);
    this.ctx.logger.error(
      {
        requestId,
        method: "POST",
        path,
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      },
      "request failed",
    );
    return problemAnswer(
      new ApiProblem(500, {
        kind: "internal",
        detail: `the server could not complete the request; the error was logged with request id ${requestId}`,
      }),
      path,
      requestId,
    );
  }

  /** As the audit middleware: nothing when the run's write stored this outcome, else the real one. */
  private async audit(
    request: HookHttpRequest,
    requestId: string,
    status: number,
    annotation: AuditAnnotation | undefined,
  ): Promise<void> {
    const result = status === 401 || status === 403 ? "denied" : status >= 400 ? "error" : "ok";
    const prepared = annotation?.prepared;
    if (prepared !== undefined && prepared.status === status && prepared.result === result) return;
    const entry = {
      who: "anonymous",
      action: HOOK_AUDIT_ACTION,
      target: annotation?.target ?? request.path,
      result,
      status,
      requestId,
      ...(annotation?.details === undefined ? {} : { details: annotation.details }),
    } as const;
    try {
      await this.ctx.deps.auditLog.record(entry, prepared === undefined ? {} : { replaces: prepared.id });
    } catch (error) {
      this.ctx.logger.error(
        { error: error instanceof Error ? error.message : String(error), entry },
        "audit entry could not be written",
      );
    }
  }
}

function problemAnswer(problem: ApiProblem, path: string, requestId: string): HookHttpAnswer {
  return {
    status: problem.status,
    headers: { "content-type": PROBLEM_MEDIA_TYPE, "x-request-id": requestId, ...problem.headers },
    body: JSON.stringify(problem.toProblem(path, requestId)),
  };
}
