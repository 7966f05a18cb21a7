import { type AatClient, createAatClient } from "@aat/sdk";
import type { SiteConfig } from "./config.js";
import { freshAccessToken, oidcSettings } from "./oidc.js";

const KEY = "aat.apiKey";
/** Fired on window when the user signs in or out, so every island on the page follows. */
export const AUTH_EVENT = "aat:auth";

/** The stored API key: localStorage when the user asked to be remembered, else this tab only. */
export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

/** `quiet`: a refreshed token for the same session, which the page need not react to. */
export function storeKey(key: string, remember: boolean, { quiet = false } = {}): void {
  if (quiet) {
    (localStorage.getItem(KEY) !== null ? localStorage : sessionStorage).setItem(KEY, key);
    return;
  }
  signOutQuietly();
  (remember ? localStorage : sessionStorage).setItem(KEY, key);
  window.dispatchEvent(new Event(AUTH_EVENT));
}

const OIDC_TOKENS = "aat.oidc.tokens";

/** What an OIDC session needs to renew its access token (this tab only). */
export interface OidcTokens {
  refreshToken?: string;
  /** Epoch ms the access token expires at, and its whole lifetime. */
  expiresAt: number;
  lifetimeMs: number;
}

export function storeOidcTokens(tokens: OidcTokens): void {
  sessionStorage.setItem(OIDC_TOKENS, JSON.stringify(tokens));
}

export function storedOidcTokens(): OidcTokens | undefined {
  const raw = sessionStorage.getItem(OIDC_TOKENS);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as OidcTokens;
  } catch {
    return undefined;
  }
}

export function signOut(): void {
  signOutQuietly();
  window.dispatchEvent(new Event(AUTH_EVENT));
}

function signOutQuietly(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  sessionStorage.removeItem(OIDC_TOKENS);
}

/**
 * The API client for a signed-in key. With OIDC the token is read before every call, so a token
 * renewed by its refresh token is used at once (streams use it when they reconnect).
 */
export function clientFor(config: SiteConfig, key: string): AatClient {
  const settings = oidcSettings(config);
  if (!settings) return createAatClient({ baseUrl: config.apiBaseUrl, bearerToken: key });
  return createAatClient({
    baseUrl: config.apiBaseUrl,
    bearerToken: () => freshAccessToken(settings, key),
  });
}
