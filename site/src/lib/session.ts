import { type AatClient, createAatClient } from "@aat/sdk";
import type { SiteConfig } from "./config.js";

const KEY = "aat.apiKey";
/** Fired on window when the user signs in or out, so every island on the page follows. */
export const AUTH_EVENT = "aat:auth";

/** The stored API key: localStorage when the user asked to be remembered, else this tab only. */
export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

export function storeKey(key: string, remember: boolean): void {
  signOutQuietly();
  (remember ? localStorage : sessionStorage).setItem(KEY, key);
  window.dispatchEvent(new Event(AUTH_EVENT));
}

export function signOut(): void {
  signOutQuietly();
  window.dispatchEvent(new Event(AUTH_EVENT));
}

function signOutQuietly(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

export function clientFor(config: SiteConfig, key: string): AatClient {
  return createAatClient({ baseUrl: config.apiBaseUrl, bearerToken: key });
}
