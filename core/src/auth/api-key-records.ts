import { z } from "zod";
import { roleSchema } from "./roles.js";

/** KV key prefix of API key records; the record key is this plus the key id. */
export const API_KEY_RECORD_PREFIX = "auth/keys/";

const isoTime = z.iso.datetime({ offset: true });

/** What is stored per key: the secret's SHA-256 and metadata, never the secret itself. */
export const storedApiKeySchema = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  roles: z.array(roleSchema).min(1),
  secretSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: isoTime,
  createdBy: z.string(),
  lastUsedAt: isoTime.optional(),
  revokedAt: isoTime.optional(),
  revokedBy: z.string().optional(),
  expiresAt: isoTime.optional(),
});

export type StoredApiKey = z.infer<typeof storedApiKeySchema>;

/** What callers see about a key: everything but the hash, plus its current status. */
export const apiKeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    roles: z.array(roleSchema),
    status: z.enum(["active", "revoked", "expired"]),
    createdAt: isoTime,
    createdBy: z.string(),
    lastUsedAt: isoTime.optional(),
    revokedAt: isoTime.optional(),
    revokedBy: z.string().optional(),
    expiresAt: isoTime.optional(),
  })
  .meta({ id: "ApiKey", description: "An API key's metadata; the secret is never returned after creation." });

export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

export function keyStatus(record: StoredApiKey, nowMs: number): ApiKeyInfo["status"] {
  if (record.revokedAt !== undefined) return "revoked";
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= nowMs) return "expired";
  return "active";
}

export function toApiKeyInfo(record: StoredApiKey, nowMs: number): ApiKeyInfo {
  const { secretSha256: _hash, ...visible } = record;
  return { ...visible, status: keyStatus(record, nowMs) };
}

export function parseStoredApiKey(kvKey: string, value: unknown): StoredApiKey {
  const parsed = storedApiKeySchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `The API key record at "${kvKey}" is not a valid API key record (${z.prettifyError(parsed.error)}); ` +
        "it was written by something other than ApiKeyStore: delete it or restore it from a backup.",
    );
  }
  return parsed.data;
}
