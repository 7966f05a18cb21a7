import type { components } from "./generated/openapi.js";

export type Problem = components["schemas"]["Problem"];
export type ProblemError = components["schemas"]["ProblemError"];

/** Base class of every error the SDK throws, so callers can catch them with one `instanceof`. */
export class AatError extends Error {
  override name = "AatError";
}

/**
 * The API answered with an error status. The body is RFC 9457 problem+json: `status`, `title`,
 * `detail` and `errors` (each with the `path` of the field it is about) are copied onto the error.
 */
export class AatApiError extends AatError {
  override name = "AatApiError";
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  readonly errors: ProblemError[];
  readonly requestId: string | undefined;
  /** The whole problem document, with any extra members (`currentStatus`, `candidates`, …). */
  readonly problem: Problem;
  readonly method: string;
  readonly url: string;

  constructor(problem: Problem, request: { method: string; url: string }) {
    const detail = typeof problem.detail === "string" ? problem.detail : undefined;
    super(
      `${request.method} ${request.url}: ${problem.status} ${problem.title}${detail ? `: ${detail}` : ""}`,
    );
    this.problem = problem;
    this.status = problem.status;
    this.title = problem.title;
    this.type = problem.type;
    this.detail = detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = typeof problem.requestId === "string" ? problem.requestId : undefined;
    this.method = request.method;
    this.url = request.url;
  }
}

/** The request never got an answer: the server is down, the URL is wrong, the connection was cut. */
export class AatNetworkError extends AatError {
  override name = "AatNetworkError";
  readonly url: string;
  readonly method: string;

  constructor(request: { method: string; url: string }, cause: unknown) {
    const reason = describeCause(cause);
    super(`${request.method} ${request.url} failed: ${reason}; is the server running at that address?`, {
      cause,
    });
    this.url = request.url;
    this.method = request.method;
  }
}

/** Turns an error response into an AatApiError, whether or not its body is problem+json. */
export async function problemFromResponse(response: Response, method: string): Promise<AatApiError> {
  const text = await response.text().catch(() => "");
  let problem: Problem | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isProblem(parsed)) problem = parsed;
  } catch {
    // not JSON: described below from the status line
  }
  problem ??= {
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    ...(text.trim() ? { detail: text.trim().slice(0, 500) } : {}),
  };
  return new AatApiError(problem, { method, url: response.url });
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.status === "number" && typeof record.title === "string";
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // undici puts the system error (ECONNREFUSED, ENOTFOUND) in `cause`.
  const inner = (cause as Error & { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as Error & { code?: string }).code;
    return code ? `${code} (${inner.message})` : inner.message;
  }
  return cause.message;
}
