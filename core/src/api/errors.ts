import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { PlanCompileError } from "../graph/errors.js";
import { formatPlanError, PlanLoadFailure } from "../plan/load-errors.js";
import { formatPath } from "../plan/structure.js";
import { PlanNotFoundError, RunInputError, RunNotFoundError } from "../runner/errors.js";
import type { ApiLogger } from "./deps.js";
import { ApiProblem, PROBLEM_MEDIA_TYPE } from "./problem.js";

/** Render an ApiProblem as problem+json, with the request id and path filled in. */
export function problemResponse(c: Context, problem: ApiProblem): Response {
  const requestId = c.get("requestId") as string | undefined;
  const body = problem.toProblem(c.req.path, requestId);
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      "content-type": PROBLEM_MEDIA_TYPE,
      ...(requestId ? { "x-request-id": requestId } : {}),
      ...problem.headers,
    },
  });
}

/**
 * What the client is told about an error. Errors the core raises for bad requests map to 4xx with
 * their own (already actionable) messages; anything else is a 500 that says only the request id.
 */
export function toApiProblem(error: unknown): ApiProblem | undefined {
  if (error instanceof ApiProblem) return error;
  if (error instanceof RunNotFoundError) {
    return new ApiProblem(404, { kind: "not-found", detail: error.message, extra: { runId: error.runId } });
  }
  if (error instanceof PlanNotFoundError) {
    return new ApiProblem(404, { kind: "not-found", detail: error.message, extra: { planId: error.planId } });
  }
  if (error instanceof RunInputError) {
    return new ApiProblem(422, {
      kind: "validation",
      detail: `the input does not match the inputs schema of plan "${error.planId}"`,
      errors: error.issues.map((issue) => ({
        path: issue.path === "" ? "input" : `input.${issue.path}`,
        message: issue.message,
      })),
    });
  }
  if (error instanceof PlanLoadFailure) {
    return new ApiProblem(422, {
      kind: "invalid-plan",
      detail: `the plan has ${error.errors.length} problem${error.errors.length === 1 ? "" : "s"}`,
      errors: error.errors.map((e) => ({
        path: e.path,
        message: e.message,
        line: e.line,
        column: e.column,
        formatted: formatPlanError(e),
      })),
    });
  }
  if (error instanceof PlanCompileError) {
    return new ApiProblem(422, {
      kind: "invalid-plan",
      detail: `plan "${error.planId}" cannot be compiled on this server`,
      errors: error.problems.map((p) => ({ path: formatPath(p.path), message: p.message })),
    });
  }
  if (error instanceof HTTPException) {
    // Hono's own (malformed JSON, media type gate, body limit): keep its status and message.
    return new ApiProblem(error.status, {
      kind: KIND_BY_STATUS[error.status] ?? "http",
      detail: httpDetail(error),
    });
  }
  return undefined;
}

const KIND_BY_STATUS: Record<number, string> = {
  400: "bad-request",
  404: "not-found",
  413: "payload-too-large",
  415: "unsupported-media-type",
};

function httpDetail(error: HTTPException): string {
  if (error.status === 415) {
    return "unsupported Content-Type: send application/json (the OpenAPI document lists each route's media types)";
  }
  if (error.status === 400) {
    return `${error.message}: send a valid JSON document with Content-Type: application/json`;
  }
  return error.message;
}

/** The error handler: known errors as problems, everything else a logged 500 that leaks nothing. */
export function handleError(error: unknown, c: Context, logger: ApiLogger): Response {
  const known = toApiProblem(error);
  if (known) return problemResponse(c, known);
  const requestId = c.get("requestId") as string | undefined;
  logger.error(
    {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error:
        error instanceof Error
          ? { name: error.name, message: error.message, stack: error.stack }
          : String(error),
    },
    "request failed",
  );
  return problemResponse(
    c,
    new ApiProblem(500, {
      kind: "internal",
      detail: `the server could not complete the request; the error was logged with request id ${requestId ?? "(none)"}`,
    }),
  );
}

/** JSON lines on stderr, for when no logger is injected. */
export const stderrLogger: ApiLogger = {
  error: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: "error", msg: message, ...fields })}\n`),
  warn: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: "warn", msg: message, ...fields })}\n`),
};
