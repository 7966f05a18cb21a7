import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthEnv, authenticate, isOidcFailure, ManualClock, OidcVerifier } from "../../src/index.js";
import { authFixture, problemOf } from "./helpers.js";

const AUDIENCE = "aat-api";
let server: Server;
let issuer: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const published = await generateKeyPair("RS256", { extractable: true });
  signingKey = published.privateKey;
  strangerKey = (await generateKeyPair("RS256")).privateKey;
  const jwks = { keys: [{ ...(await exportJWK(published.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] };
  server = createServer((request, response) => {
    if (request.url === "/jwks") {
      jwksRequests++;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    } else if (request.url === "/.well-known/openid-configuration") {
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else {
      response.writeHead(500).end("broken");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface TokenOptions {
  claims?: JWTPayload;
  key?: CryptoKey;
  kid?: string;
  iss?: string;
  aud?: string;
  exp?: string | number;
}

async function token(options: TokenOptions = {}): Promise<string> {
  return new SignJWT({ roles: ["responder"], name: "Ada", ...options.claims })
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "k1" })
    .setSubject("user-42")
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "10m")
    .sign(options.key ?? signingKey);
}

const verifier = (extra: Partial<ConstructorParameters<typeof OidcVerifier>[0]> = {}) =>
  new OidcVerifier({ issuer, audience: AUDIENCE, jwksUrl: `${issuer}/jwks`, ...extra });

describe("OidcVerifier", () => {
  it("accepts a valid token and maps its roles claim", async () => {
    expect(await verifier().verify(await token())).toEqual({
      id: "oidc:user-42",
      name: "Ada",
      roles: ["responder"],
      via: "oidc",
    });
  });

  it("reads a space-separated roles string and a nested claim, ignoring unknown role names", async () => {
    const spaced = await token({ claims: { roles: "viewer superuser analyst" } });
    expect(await verifier().verify(spaced)).toMatchObject({ roles: ["viewer", "analyst"] });
    const nested = await token({ claims: { roles: undefined, realm_access: { roles: ["developer", "x"] } } });
    expect(await verifier({ rolesClaim: "realm_access.roles" }).verify(nested)).toMatchObject({
      roles: ["developer"],
    });
  });

  it.each<[string, () => Promise<string>, string, RegExp]>([
    ["wrong issuer", () => token({ iss: "https://evil.example.com" }), "wrong-issuer", /not issued by/],
    [
      "wrong audience",
      () => token({ aud: "someone-else" }),
      "wrong-audience",
      /not meant for audience "aat-api"/,
    ],
    ["expired", () => token({ exp: Math.floor(Date.now() / 1000) - 3600 }), "expired", /has expired/],
    ["bad signature", () => token({ key: strangerKey }), "bad-signature", /signature does not match/],
    ["unknown kid", () => token({ key: strangerKey, kid: "k2" }), "unknown-key", /kid/],
    [
      "no sub",
      () =>
        new SignJWT({ roles: ["viewer"] })
          .setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setExpirationTime("5m")
          .sign(signingKey),
      "invalid-claims",
      /no sub/,
    ],
    ["not a JWT", async () => "abc.def", "malformed", /not a valid JWT/],
  ])("rejects a token with %s (401, reason %s)", async (_case, make, reason, detail) => {
    const result = await verifier().verify(await make());
    expect(isOidcFailure(result) && result).toMatchObject({ error: reason, status: 401 });
    expect(isOidcFailure(result) ? result.detail : "").toMatch(detail);
  });

  it("rejects a symmetric (HS256) token even if it names a published kid", async () => {
    const forged = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setSubject("attacker")
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!"));
    expect(await verifier().verify(forged)).toMatchObject({ error: "algorithm-not-allowed", status: 401 });
  });

  it("uses the injected clock for expiry", async () => {
    const clock = new ManualClock(Date.now());
    const shortLived = await token({ exp: "2m" });
    expect(await verifier({ clock }).verify(shortLived)).toMatchObject({ via: "oidc" });
    clock.advance(3 * 60_000);
    expect(await verifier({ clock, clockToleranceSeconds: 0 }).verify(shortLived)).toMatchObject({
      error: "expired",
    });
  });

  it("answers 403 'token carries no aat role' for a valid token without a known role", async () => {
    const result = await verifier().verify(await token({ claims: { roles: ["superuser"] } }));
    expect(result).toMatchObject({ error: "no-role", status: 403 });
    expect(isOidcFailure(result) ? result.detail : "").toMatch(/^token carries no aat role/);
  });

  it("discovers the JWKS URL from the issuer when none is configured", async () => {
    const discovering = new OidcVerifier({ issuer, audience: AUDIENCE });
    expect(await discovering.verify(await token())).toMatchObject({ id: "oidc:user-42" });
  });

  it("answers 503 jwks-unavailable when the issuer's keys cannot be fetched", async () => {
    const broken = verifier({ jwksUrl: `${issuer}/missing` });
    expect(await broken.verify(await token())).toMatchObject({ error: "jwks-unavailable", status: 503 });
  });

  it("fetches the JWKS once and reuses it", async () => {
    const shared = verifier();
    const before = jwksRequests;
    await shared.verify(await token());
    await shared.verify(await token());
    expect(jwksRequests - before).toBe(1);
  });
});

describe("authenticate with OIDC", () => {
  function app(oidc: OidcVerifier) {
    const { store } = authFixture();
    const hono = new Hono<AuthEnv>();
    hono.use("*", authenticate({ keys: store, oidc, mode: "oidc" }));
    hono.get("/whoami", (c) => c.json(c.get("principal")));
    return hono;
  }
  const bearer = (value: string) => ({ headers: { authorization: `Bearer ${value}` } });

  it("takes a JWT bearer as the principal", async () => {
    const response = await app(verifier()).request("/whoami", bearer(await token()));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: "oidc:user-42", via: "oidc" });
  });

  it("maps failures to 401, 403 and 503 problems with the reason", async () => {
    const expired = await app(verifier()).request(
      "/whoami",
      bearer(await token({ exp: Math.floor(Date.now() / 1000) - 3600 })),
    );
    expect(expired.status).toBe(401);
    expect(await problemOf(expired)).toMatchObject({ reason: "expired", credential: "oidc" });
    const roleless = await app(verifier()).request("/whoami", bearer(await token({ claims: { roles: [] } })));
    expect(roleless.status).toBe(403);
    expect(await problemOf(roleless)).toMatchObject({
      reason: "no-role",
      detail: expect.stringMatching(/^token carries no aat role/),
    });
    const down = await app(verifier({ jwksUrl: `${issuer}/missing` })).request(
      "/whoami",
      bearer(await token()),
    );
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(await problemOf(down)).toMatchObject({ reason: "jwks-unavailable" });
  });
});
