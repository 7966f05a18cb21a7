import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** RFC 9457 problem details, the error shape every aat route answers with. */
export interface AuthProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Machine-readable reason, e.g. "revoked" or "missing-role". */
  reason: string;
  [extra: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

const PROBLEM_BASE = "https://aat.dev/problems/";

export const AUTH_PROBLEM_TYPES = {
  unauthenticated: `${PROBLEM_BASE}unauthenticated`,
  forbidden: `${PROBLEM_BASE}forbidden`,
  authUnavailable: `${PROBLEM_BASE}auth-unavailable`,
} as const;

/** Same shape as the API's problems: `instance` is the request path, `requestId` set when one is known. */
export function problemResponse(
  c: Context,
  problem: AuthProblem & { status: ContentfulStatusCode },
  headers: Record<string, string> = {},
): Response {
  const requestId: unknown = (c.var as Record<string, unknown>).requestId;
  const body = {
    ...problem,
    instance: c.req.path,
    ...(typeof requestId === "string" ? { requestId } : {}),
  };
  return c.body(JSON.stringify(body), problem.status, {
    "content-type": PROBLEM_CONTENT_TYPE,
    ...headers,
  });
}
