import { requireRoles } from "../auth/middleware.js";
import type { Role } from "../auth/roles.js";
import { PROBLEM_MEDIA_TYPE, problemSchema, titleFor } from "./problem.js";

/** Security requirement objects of authenticated routes: an API key or an OIDC bearer token. */
export const AUTHENTICATED: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: "http" as const,
    scheme: "bearer",
    description: "An aat API key (`aat_…`) or, when OIDC is configured, an OIDC access token.",
  },
  apiKeyHeader: {
    type: "apiKey" as const,
    in: "header" as const,
    name: "X-API-Key",
    description: "An aat API key, as an alternative to the Authorization header.",
  },
};

/**
 * The parts of a route config that make it authenticated and role-checked: the role middleware (runs
 * before validation, so 401/403 come first), the security requirement and `x-aat-roles`, which lists
 * every role allowed (admin always is).
 */
export function allowRoles(...roles: Role[]) {
  const allowed = [...new Set<Role>([...roles, "admin"])];
  return {
    middleware: [requireRoles(...roles)],
    security: AUTHENTICATED,
    "x-aat-roles": allowed,
  };
}

/** Routes anyone may call (health, webhooks verified by signature, the OpenAPI document). */
export const PUBLIC = { security: [] as Array<Record<string, string[]>>, "x-aat-roles": [] as Role[] };

type ProblemResponse = {
  description: string;
  content: { "application/problem+json": { schema: typeof problemSchema } };
};

/** Problem+json responses for the listed statuses, described once. */
export function problems<const S extends number>(...statuses: S[]): Record<S, ProblemResponse> {
  const out = {} as Record<S, ProblemResponse>;
  for (const status of statuses) {
    out[status] = {
      description: DESCRIPTIONS[status] ?? titleFor(status),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema } } as ProblemResponse["content"],
    };
  }
  return out;
}

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request (query or path parameters, JSON syntax).",
  401: "No valid credentials.",
  403: "The caller lacks an allowed role.",
  404: "Not found.",
  409: "Conflict with the current state.",
  413: "Body larger than the configured limit.",
  415: "Unsupported content type.",
  422: "The body is well-formed but invalid; `errors` names each field.",
  500: "Unexpected server error; quote the requestId.",
  503: "A dependency is unavailable.",
};

/** Problems every authenticated route can answer. */
export const AUTH_PROBLEMS = [401, 403] as const;
