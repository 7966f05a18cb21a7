import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { z } from "zod";
import type { Clock } from "../ports/clock.js";
import type { Principal } from "./principal.js";
import { isRole, type Role } from "./roles.js";

export interface OidcVerifierOptions {
  /** Expected `iss`; also where the JWKS URL is discovered when `jwksUrl` is not given. */
  issuer: string;
  /** Expected `aud`. */
  audience: string;
  /** JWKS endpoint; when absent it is read from `<issuer>/.well-known/openid-configuration` on first use. */
  jwksUrl?: string;
  /** Claim holding the caller's roles (an array or a space-separated string); dots reach nested claims. */
  rolesClaim?: string;
  /** Leeway for exp/nbf/iat between this server's clock and the issuer's. */
  clockToleranceSeconds?: number;
  /** Time source for exp/nbf checks; the system clock by default. */
  clock?: Clock;
  /** How long one JWKS or discovery request may take. */
  fetchTimeoutMs?: number;
}

export type OidcFailureReason =
  | "malformed"
  | "expired"
  | "not-yet-valid"
  | "wrong-issuer"
  | "wrong-audience"
  | "invalid-claims"
  | "bad-signature"
  | "unknown-key"
  | "algorithm-not-allowed"
  | "no-role"
  | "jwks-unavailable";

export interface OidcFailure {
  error: OidcFailureReason;
  detail: string;
  /** 401 for a bad token, 403 for a good token without an aat role, 503 when the issuer's keys cannot be read. */
  status: 401 | 403 | 503;
}

/** Asymmetric algorithms only: a JWKS never holds the shared secrets HS* would need. */
const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

const discoverySchema = z.looseObject({ issuer: z.string(), jwks_uri: z.url() });

class JwksUnavailableError extends Error {
  override name = "JwksUnavailableError";
}

/** Verifies OIDC access or ID tokens (JWT bearer) against the issuer's published keys. */
export class OidcVerifier {
  private readonly rolesClaim: string;
  private readonly clockToleranceSeconds: number;
  private readonly fetchTimeoutMs: number;
  private jwks: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly options: OidcVerifierOptions) {
    for (const [name, value] of [
      ["issuer", options.issuer],
      ["jwksUrl", options.jwksUrl],
    ] as const) {
      if (value !== undefined && !URL.canParse(value)) {
        throw new TypeError(
          `OidcVerifier: ${name} "${value}" is not a URL; expected e.g. https://login.example.com`,
        );
      }
    }
    if (options.audience.length === 0) throw new TypeError("OidcVerifier: audience must not be empty");
    this.rolesClaim = options.rolesClaim ?? "roles";
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? 30;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
  }

  async verify(token: string): Promise<Principal | OidcFailure> {
    let payload: JWTPayload;
    try {
      const { jwtVerify } = await loadJose();
      const result = await jwtVerify(token, this.keyResolver, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: this.clockToleranceSeconds,
        ...(this.options.clock === undefined ? {} : { currentDate: new Date(this.options.clock.now()) }),
      });
      payload = result.payload;
    } catch (error) {
      return this.describeFailure(error);
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) {
      return {
        error: "invalid-claims",
        detail: "the token has no sub claim, so the caller cannot be named",
        status: 401,
      };
    }
    const roles = rolesFromClaim(readClaim(payload, this.rolesClaim));
    if (roles.length === 0) {
      return {
        error: "no-role",
        detail:
          `token carries no aat role: its "${this.rolesClaim}" claim must list at least one of ` +
          "admin, responder, analyst, developer, viewer; ask your identity provider admin to assign one",
        status: 403,
      };
    }
    const name = firstString(payload.name, payload.preferred_username, payload.email);
    return { id: `oidc:${payload.sub}`, ...(name === undefined ? {} : { name }), roles, via: "oidc" };
  }

  private readonly keyResolver: JWTVerifyGetKey = async (header, token) => {
    const jwks = await this.loadJwks();
    try {
      return await jwks(header, token);
    } catch (error) {
      const code = joseCode(error);
      if (code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw error;
      if (code === "ERR_JOSE_NOT_SUPPORTED") throw error;
      throw new JwksUnavailableError(`the issuer's signing keys could not be fetched (${describe(error)})`, {
        cause: error,
      });
    }
  };

  private loadJwks(): Promise<JWTVerifyGetKey> {
    if (this.jwks === undefined) {
      const pending = Promise.all([this.resolveJwksUrl(), loadJose()]).then(([url, { createRemoteJWKSet }]) =>
        createRemoteJWKSet(new URL(url), { timeoutDuration: this.fetchTimeoutMs }),
      );
      this.jwks = pending;
      // A failed discovery is retried on the next request rather than remembered forever.
      pending.catch(() => {
        if (this.jwks === pending) this.jwks = undefined;
      });
    }
    return this.jwks;
  }

  private async resolveJwksUrl(): Promise<string> {
    if (this.options.jwksUrl !== undefined) return this.options.jwksUrl;
    const discoveryUrl = `${this.options.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    let body: unknown;
    try {
      const response = await fetch(discoveryUrl, { signal: AbortSignal.timeout(this.fetchTimeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (error) {
      throw new JwksUnavailableError(`OIDC discovery at ${discoveryUrl} failed (${describe(error)})`, {
        cause: error,
      });
    }
    const parsed = discoverySchema.safeParse(body);
    if (!parsed.success) {
      throw new JwksUnavailableError(`OIDC discovery at ${discoveryUrl} returned no valid jwks_uri`);
    }
    if (parsed.data.issuer !== this.options.issuer) {
      throw new JwksUnavailableError(
        `OIDC discovery at ${discoveryUrl} names issuer "${parsed.data.issuer}", not the configured "${this.options.issuer}"`,
      );
    }
    return parsed.data.jwks_uri;
  }

  private describeFailure(error: unknown): OidcFailure {
    if (error instanceof JwksUnavailableError) {
      return { error: "jwks-unavailable", detail: `${error.message}; try again shortly`, status: 503 };
    }
    const reject = (reason: OidcFailureReason, detail: string): OidcFailure => ({
      error: reason,
      detail,
      status: 401,
    });
    switch (joseCode(error)) {
      case "ERR_JWT_EXPIRED":
        return reject("expired", "the token has expired: get a fresh one from your identity provider");
      case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
        const claim = claimOf(error);
        if (claim === "iss") {
          return reject(
            "wrong-issuer",
            `the token was not issued by ${this.options.issuer}, the issuer this server trusts`,
          );
        }
        if (claim === "aud") {
          return reject("wrong-audience", `the token is not meant for audience "${this.options.audience}"`);
        }
        if (claim === "nbf")
          return reject("not-yet-valid", "the token is not valid yet (nbf is in the future)");
        return reject(
          "invalid-claims",
          `the token's ${claim ?? "claims"} failed validation: ${describe(error)}`,
        );
      }
      case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
        return reject("bad-signature", "the token's signature does not match the issuer's key");
      case "ERR_JWKS_NO_MATCHING_KEY":
      case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
        return reject("unknown-key", "the token was signed with a key (kid) the issuer does not publish");
      case "ERR_JOSE_ALG_NOT_ALLOWED":
      case "ERR_JOSE_NOT_SUPPORTED":
        return reject(
          "algorithm-not-allowed",
          `the token's signing algorithm is not accepted (${describe(error)})`,
        );
      case "ERR_JWS_INVALID":
      case "ERR_JWT_INVALID":
        return reject("malformed", `the bearer token is not a valid JWT (${describe(error)})`);
      default:
        throw error;
    }
  }
}

export function isOidcFailure(value: Principal | OidcFailure): value is OidcFailure {
  return "error" in value;
}

function readClaim(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let current: unknown = payload;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function rolesFromClaim(value: unknown): Role[] {
  const names = typeof value === "string" ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  return [...new Set(names.filter(isRole))];
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === "string" && value.length > 0);
}

/** jose, loaded with the first token to verify: an API without OIDC (or before its first bearer token) never parses it. */
function loadJose(): Promise<typeof import("jose")> {
  return import("jose");
}

function joseCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function claimOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("claim" in error)) return undefined;
  return typeof error.claim === "string" ? error.claim : undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return error.message + cause;
}
