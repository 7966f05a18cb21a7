import { randomBytes } from "node:crypto";

/** `aat_<id>_<secret>`: the id locates the record, only the secret's hash is stored. */
export const API_KEY_PREFIX = "aat_";

/** Bytes of randomness in a generated secret (256 bits). */
export const SECRET_BYTES = 32;
/** Shortest secret accepted, also for imported keys (32 base64url characters carry 192 bits). */
export const MIN_SECRET_LENGTH = 32;
const MAX_KEY_LENGTH = 512;

const KEY_PATTERN = /^aat_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]+)$/;

/** What the parts of a key must look like, for error messages. */
export const API_KEY_FORM =
  "aat_<id>_<secret>: id of 1-64 letters, digits or '-', secret of at least 32 letters, digits, '_' or '-'";

export interface ParsedApiKey {
  id: string;
  secret: string;
}

export function parseApiKey(key: string): ParsedApiKey | undefined {
  if (key.length > MAX_KEY_LENGTH) return undefined;
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, id, secret] = match;
  if (id === undefined || secret === undefined || secret.length < MIN_SECRET_LENGTH) return undefined;
  return { id, secret };
}

export function formatApiKey(parts: ParsedApiKey): string {
  return `${API_KEY_PREFIX}${parts.id}_${parts.secret}`;
}

export function generateKeyId(): string {
  return randomBytes(8).toString("hex");
}

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString("base64url");
}

/** Whether a bearer token is meant as an API key (rather than a JWT), whether or not it is well formed. */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}
