import type { EgressResponse } from "../../egress/client.js";
import { ProviderError } from "../types.js";

/**
 * Turns a non-2xx answer into a ProviderError: 429 (and 403/204 quota answers flagged by the caller)
 * as rate limited with the server's Retry-After, anything else with the status and the API's message.
 */
export function providerFailure(name: string, response: EgressResponse): ProviderError {
  const retryAfter = retryAfterMs(response.headers["retry-after"]);
  if (response.status === 429) {
    return new ProviderError(`${name} rate limit reached (HTTP 429)`, {
      rateLimited: true,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    });
  }
  const message = apiMessage(response.json) ?? response.text.slice(0, 200);
  if (response.status === 401 || response.status === 403) {
    return new ProviderError(`${name} refused the API key (HTTP ${response.status}): ${message}`);
  }
  return new ProviderError(`${name} answered HTTP ${response.status}: ${message}`);
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The error text of the common API shapes: `{ errors: [{ detail }] }`, `{ error: { message } }`, `{ message }`. */
function apiMessage(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const errors = record.errors;
  if (Array.isArray(errors) && typeof errors[0]?.detail === "string") return errors[0].detail;
  const error = record.error;
  if (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { message?: unknown }).message === "string"
  ) {
    return (error as { message: string }).message;
  }
  if (typeof error === "string") return error;
  if (typeof record.message === "string") return record.message;
  if (typeof record.detail === "string") return record.detail;
  return undefined;
}
