import type { Context, MiddlewareHandler } from "hono";
import { looksLikeApiKey } from "./api-key-format.js";
import { type ApiKeyFailure, type ApiKeyStore, isApiKeyFailure } from "./api-key-store.js";
import { isOidcFailure, type OidcFailure, type OidcVerifier } from "./oidc.js";
import { allows, anonymousAdmin, type Principal } from "./principal.js";
import { AUTH_PROBLEM_TYPES, problemResponse } from "./problem.js";
import type { Role } from "./roles.js";

/** Hono variables set by `authenticate`; apps that mount it declare `{ Variables: AuthVariables }`. */
export type AuthVariables = { principal: Principal };
export type AuthEnv = { Variables: AuthVariables };

export type AuthMode = "apiKey" | "oidc" | "none";

/** What the runtime prints at start-up in mode "none", so nobody runs it that way by accident. */
export const AUTH_NONE_WARNING =
  "WARNING: authentication is OFF (auth.mode=none). Anyone who can reach this server is an admin: " +
  "they can run plans, read results and create API keys. Use it only on a machine nobody else can reach.";

export interface AuthenticateOptions {
  keys: ApiKeyStore;
  /** Accepts OIDC JWTs as bearer tokens as well; required in mode "oidc". */
  oidc?: OidcVerifier;
  /** "none" lets everyone in as an admin; API keys are accepted in both other modes. */
  mode: AuthMode;
}

const HOW_TO_AUTHENTICATE = "send Authorization: Bearer <api key> (or X-API-Key: <api key>)";
const KEY_TITLES: Record<ApiKeyFailure["error"], string> = {
  malformed: "Malformed API key",
  unknown: "Unknown API key",
  revoked: "API key revoked",
  expired: "API key expired",
};

/**
 * Establishes who is calling and sets `principal`, or answers 401 (503 when the OIDC issuer's keys
 * cannot be read, 403 for a valid token carrying no aat role).
 */
export function authenticate<E extends AuthEnv = AuthEnv>(
  options: AuthenticateOptions,
): MiddlewareHandler<E> {
  if (options.mode === "oidc" && options.oidc === undefined) {
    throw new TypeError('authenticate: mode "oidc" needs an OidcVerifier in options.oidc');
  }
  const oidc = options.mode === "none" ? undefined : options.oidc;
  const how =
    oidc === undefined ? HOW_TO_AUTHENTICATE : `${HOW_TO_AUTHENTICATE}, or an OIDC token as the bearer`;

  return async (c, next) => {
    if (options.mode === "none") {
      setPrincipal(c, anonymousAdmin());
      return next();
    }
    const credential = readCredential(c);
    if (credential.kind === "missing") {
      return unauthenticated(
        c,
        "missing-credentials",
        "Authentication required",
        `no credentials: ${how}`,
        false,
      );
    }
    if (credential.kind === "malformed-header") {
      return unauthenticated(
        c,
        "malformed-authorization",
        "Malformed Authorization header",
        `the Authorization header must be "Bearer <token>": ${how}`,
        true,
      );
    }
    const { token } = credential;
    if (credential.kind === "apiKey" || looksLikeApiKey(token)) {
      const result = await options.keys.verify(token);
      if (isApiKeyFailure(result)) {
        return unauthenticated(c, result.error, KEY_TITLES[result.error], result.detail, true, "apiKey");
      }
      setPrincipal(c, result);
      return next();
    }
    if (oidc === undefined) {
      return unauthenticated(
        c,
        "unsupported-token",
        "Unsupported bearer token",
        `the bearer token is not an aat API key (those start with "aat_") and this server accepts no OIDC tokens: ${HOW_TO_AUTHENTICATE}`,
        true,
      );
    }
    const result = await oidc.verify(token);
    if (isOidcFailure(result)) return oidcProblem(c, result);
    setPrincipal(c, result);
    return next();
  };
}

/** Answers 403 unless the caller holds one of `roles`; admin always passes. Mount after `authenticate`. */
export function requireRoles<E extends AuthEnv = AuthEnv>(...roles: Role[]): MiddlewareHandler<E> {
  const allowed: Role[] = [...new Set<Role>([...roles, "admin"])];
  return async (c, next) => {
    const principal = principalOf(c);
    if (principal === undefined) {
      // A wiring mistake, not the caller's: fail closed and loudly.
      throw new Error("requireRoles ran before authenticate: mount authenticate() ahead of every route");
    }
    if (allows(principal, allowed)) return next();
    const held = principal.roles.length === 0 ? "no roles" : `roles ${principal.roles.join(", ")}`;
    return problemResponse(c, {
      type: AUTH_PROBLEM_TYPES.forbidden,
      title: "Forbidden",
      status: 403,
      detail: `${c.req.method} ${c.req.path} allows roles ${allowed.join(", ")}; ${principal.id} has ${held}. Ask an admin for a key or token with one of the allowed roles.`,
      reason: "missing-role",
      allowedRoles: allowed,
      callerRoles: principal.roles,
    });
  };
}

// Typed against the base Context so the middleware fits any app whose variables include AuthVariables.
function setPrincipal(c: Context, principal: Principal): void {
  c.set("principal", principal);
}

/** The authenticated caller, or undefined when `authenticate` has not run. */
export function principalOf(c: Context): Principal | undefined {
  const value: unknown = c.get("principal");
  return value === undefined ? undefined : (value as Principal);
}

type Credential =
  | { kind: "missing" }
  | { kind: "malformed-header" }
  | { kind: "bearer"; token: string }
  | { kind: "apiKey"; token: string };

function readCredential(c: Context): Credential {
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return match?.[1] === undefined ? { kind: "malformed-header" } : { kind: "bearer", token: match[1] };
  }
  const apiKey = c.req.header("x-api-key")?.trim();
  if (apiKey !== undefined && apiKey.length > 0) return { kind: "apiKey", token: apiKey };
  return { kind: "missing" };
}

function unauthenticated(
  c: Context,
  reason: string,
  title: string,
  detail: string,
  credentialPresented: boolean,
  credential?: "apiKey" | "oidc",
): Response {
  // RFC 6750: no error code when no credentials were sent at all.
  const challenge = credentialPresented ? 'Bearer realm="aat", error="invalid_token"' : 'Bearer realm="aat"';
  return problemResponse(
    c,
    {
      type: AUTH_PROBLEM_TYPES.unauthenticated,
      title,
      status: 401,
      detail,
      reason,
      ...(credential === undefined ? {} : { credential }),
    },
    { "www-authenticate": challenge },
  );
}

function oidcProblem(c: Context, failure: OidcFailure): Response {
  if (failure.status === 401) {
    return unauthenticated(c, failure.error, "Invalid OIDC token", failure.detail, true, "oidc");
  }
  if (failure.status === 403) {
    return problemResponse(c, {
      type: AUTH_PROBLEM_TYPES.forbidden,
      title: "Forbidden",
      status: 403,
      detail: failure.detail,
      reason: failure.error,
      credential: "oidc",
    });
  }
  return problemResponse(
    c,
    {
      type: AUTH_PROBLEM_TYPES.authUnavailable,
      title: "Authentication temporarily unavailable",
      status: 503,
      detail: failure.detail,
      reason: failure.error,
      credential: "oidc",
    },
    { "retry-after": "5" },
  );
}
