import * as oauth from "oauth4webapi";
import type { SiteConfig } from "./config.js";
import {
  type OidcTokens,
  signOut,
  storedKey,
  storedOidcTokens,
  storeKey,
  storeOidcTokens,
} from "./session.js";

/**
 * OIDC sign-in for the browser: authorization code with PKCE (oauth4webapi), a public client (no
 * secret). The identity provider sends the browser back to `/signin/`, which exchanges the code for
 * tokens; the access token then travels as `Authorization: Bearer` like an API key, and the API checks
 * it (docs/auth.md: issuer, audience, roles claim).
 */

const PENDING = "aat.oidc.pending";
/** Why the last session ended, shown once by the sign-in form. */
export const SIGNED_OUT_REASON = "aat.signedOutReason";

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  scope: string;
  resource?: string;
  audience?: string;
}

export function oidcSettings(config: SiteConfig): OidcSettings | undefined {
  const { auth } = config;
  if (auth.mode !== "oidc" || !auth.issuer || !auth.clientId) return undefined;
  return {
    issuer: auth.issuer,
    clientId: auth.clientId,
    scope: auth.scope ?? "openid profile email",
    ...(auth.resource ? { resource: auth.resource } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
}

export const redirectUri = () => `${window.location.origin}/signin/`;

// Plain http is allowed only for a provider on this machine (development and the browser tests).
const insecureOk = (issuer: URL) =>
  issuer.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);

async function discover(settings: OidcSettings): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(settings.issuer);
  const response = await oauth.discoveryRequest(issuer, {
    [oauth.allowInsecureRequests]: insecureOk(issuer),
  });
  return oauth.processDiscoveryResponse(issuer, response);
}

/** Sends the browser to the identity provider; it comes back to /signin/. */
export async function startOidcSignIn(settings: OidcSettings): Promise<void> {
  const as = await discover(settings);
  if (!as.authorization_endpoint) throw new Error(`${settings.issuer} names no authorization endpoint`);
  const pending: Pending = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    returnTo: window.location.pathname + window.location.search,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", settings.clientId);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", settings.scope);
  url.searchParams.set("state", pending.state);
  url.searchParams.set("nonce", pending.nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  if (settings.resource) url.searchParams.set("resource", settings.resource);
  if (settings.audience) url.searchParams.set("audience", settings.audience);
  window.location.assign(url.href);
}

/** On /signin/: checks the answer, exchanges the code, stores the access token; returns where to go. */
export async function completeOidcSignIn(settings: OidcSettings): Promise<string> {
  const raw = sessionStorage.getItem(PENDING);
  if (!raw) throw new Error("No sign-in is in progress in this tab: start again from the sign-in page.");
  sessionStorage.removeItem(PENDING);
  const pending = JSON.parse(raw) as Pending;
  const as = await discover(settings);
  const client: oauth.Client = { client_id: settings.clientId };
  const params = oauth.validateAuthResponse(as, client, new URL(window.location.href), pending.state);
  const issuer = new URL(settings.issuer);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    { [oauth.allowInsecureRequests]: insecureOk(issuer) },
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  storeKey(tokens.access_token, false);
  storeOidcTokens(tokensOf(tokens));
  return pending.returnTo.startsWith("/") && !pending.returnTo.startsWith("//") ? pending.returnTo : "/";
}

function tokensOf(tokens: oauth.TokenEndpointResponse, previous?: OidcTokens): OidcTokens {
  const lifetimeMs = (tokens.expires_in ?? 300) * 1000;
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  return { expiresAt: Date.now() + lifetimeMs, lifetimeMs, ...(refreshToken ? { refreshToken } : {}) };
}

let refreshing: Promise<string | undefined> | undefined;

/**
 * The access token to send now: the stored one, or, when it is about to expire (a quarter of its life
 * left, at most 30 s) and the provider gave a refresh token, a new one from the refresh token grant.
 * One refresh at a time however many calls ask. A refused refresh signs out (the page then asks to sign
 * in again) rather than sending a token the API will refuse.
 */
export function freshAccessToken(settings: OidcSettings, key: string): Promise<string | undefined> {
  const tokens = storedOidcTokens();
  // An API key (or a provider that gave no refresh token) is sent as it is.
  if (!tokens?.refreshToken) return Promise.resolve(key);
  const current = storedKey() ?? key;
  const margin = Math.min(30_000, tokens.lifetimeMs / 4);
  if (Date.now() < tokens.expiresAt - margin) return Promise.resolve(current);
  refreshing ??= refresh(settings, tokens.refreshToken, tokens).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

async function refresh(
  settings: OidcSettings,
  refreshToken: string,
  previous: OidcTokens,
): Promise<string | undefined> {
  const as = await discover(settings);
  const client: oauth.Client = { client_id: settings.clientId };
  const issuer = new URL(settings.issuer);
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, {
      [oauth.allowInsecureRequests]: insecureOk(issuer),
      ...(settings.resource ? { additionalParameters: { resource: settings.resource } } : {}),
    });
    const tokens = await oauth.processRefreshTokenResponse(as, client, response);
    storeKey(tokens.access_token, false, { quiet: true });
    storeOidcTokens(tokensOf(tokens, previous));
    return tokens.access_token;
  } catch (error) {
    // A network failure keeps the session (the next call tries again); a refused grant ends it.
    if (error instanceof oauth.ResponseBodyError) {
      sessionExpired();
      return undefined;
    }
    throw error;
  }
}

function sessionExpired(): void {
  sessionStorage.setItem(SIGNED_OUT_REASON, "Your sign-in expired: sign in again.");
  signOut();
}
