import { z } from "zod";
import type { Clock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import { API_KEY_FORM, formatApiKey, generateKeyId, generateSecret, parseApiKey } from "./api-key-format.js";
import {
  API_KEY_RECORD_PREFIX,
  type ApiKeyInfo,
  keyStatus,
  parseStoredApiKey,
  type StoredApiKey,
  toApiKeyInfo,
} from "./api-key-records.js";
import type { Principal } from "./principal.js";
import { roleSchema } from "./roles.js";
import { hashSecret, secretMatches } from "./secret-hash.js";

/** lastUsedAt is a hint for operators, so it is written at most this often per key to spare the KV. */
export const LAST_USED_RESOLUTION_MS = 60_000;

export const createApiKeyInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  roles: z
    .array(roleSchema)
    .min(1, "give at least one role")
    .transform((roles) => [...new Set(roles)]),
  createdBy: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

export type CreateApiKeyInput = z.input<typeof createApiKeyInputSchema>;

export interface CreatedApiKey {
  id: string;
  /** The full key; it exists only here and is never stored or shown again. */
  key: string;
  record: ApiKeyInfo;
}

export type ApiKeyFailureReason = "malformed" | "unknown" | "revoked" | "expired";

export interface ApiKeyFailure {
  error: ApiKeyFailureReason;
  detail: string;
}

export type ImportedKeyOutcome =
  | { status: "imported"; record: ApiKeyInfo }
  | { status: "existing"; record: ApiKeyInfo };

/** Bad arguments to ApiKeyStore (the HTTP routes validate first, so callers of those never see it). */
export class ApiKeyInputError extends Error {
  override name = "ApiKeyInputError";
  constructor(
    message: string,
    /** Path of the offending field (e.g. "expiresAt"), when one field is to blame. */
    readonly path?: string,
  ) {
    super(message);
  }
}

const FAILURE_DETAIL: Record<ApiKeyFailureReason, string> = {
  malformed: `the API key is malformed: expected ${API_KEY_FORM}`,
  unknown:
    "the API key is not known to this server: check you copied all of it, or ask an admin for a new one",
  revoked: "the API key has been revoked: ask an admin for a new one",
  expired: "the API key has expired: ask an admin for a new one",
};

function failure(error: ApiKeyFailureReason): ApiKeyFailure {
  return { error, detail: FAILURE_DETAIL[error] };
}

/** API keys, stored hashed in KV under `auth/keys/<id>`. */
export class ApiKeyStore {
  constructor(
    private readonly kv: KeyValue,
    private readonly clock: Clock,
  ) {}

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const parsed = createApiKeyInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new ApiKeyInputError(`Cannot create the API key: ${z.prettifyError(parsed.error)}`);
    }
    const { name, roles, createdBy, expiresAt } = parsed.data;
    const now = this.clock.now();
    if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
      throw new ApiKeyInputError(
        `Cannot create the API key: expiresAt ${expiresAt} is not in the future (now is ${new Date(now).toISOString()}).`,
        "expiresAt",
      );
    }
    // A collision of 64 random bits is not expected, but setIfAbsent makes one harmless rather than a takeover.
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = generateKeyId();
      const secret = generateSecret();
      const record: StoredApiKey = {
        id,
        name,
        roles,
        secretSha256: hashSecret(secret),
        createdAt: new Date(now).toISOString(),
        createdBy,
        ...(expiresAt === undefined ? {} : { expiresAt: new Date(Date.parse(expiresAt)).toISOString() }),
      };
      const written = await this.kv.setIfAbsent(recordKey(id), record);
      if (written.ok) return { id, key: formatApiKey({ id, secret }), record: toApiKeyInfo(record, now) };
    }
    throw new Error("Could not find a free API key id after 5 attempts; the KV store is misbehaving.");
  }

  /**
   * Stores a key whose full text the operator chose (the configured bootstrap key). Importing the same
   * key twice is a no-op; a different key under an existing id is refused, since it could never verify.
   */
  async importKey(input: {
    key: string;
    name: string;
    roles: CreateApiKeyInput["roles"];
    createdBy: string;
  }) {
    const parts = parseApiKey(input.key);
    if (parts === undefined) {
      throw new ApiKeyInputError(`Cannot import the API key: it must have the form ${API_KEY_FORM}.`);
    }
    const parsed = createApiKeyInputSchema.safeParse({
      name: input.name,
      roles: input.roles,
      createdBy: input.createdBy,
    });
    if (!parsed.success) {
      throw new ApiKeyInputError(`Cannot import the API key: ${z.prettifyError(parsed.error)}`);
    }
    const now = this.clock.now();
    const record: StoredApiKey = {
      id: parts.id,
      name: parsed.data.name,
      roles: parsed.data.roles,
      secretSha256: hashSecret(parts.secret),
      createdAt: new Date(now).toISOString(),
      createdBy: parsed.data.createdBy,
    };
    const written = await this.kv.setIfAbsent(recordKey(parts.id), record);
    if (written.ok)
      return { status: "imported", record: toApiKeyInfo(record, now) } satisfies ImportedKeyOutcome;
    const existing = parseStoredApiKey(recordKey(parts.id), written.current?.value);
    if (!secretMatches(parts.secret, existing.secretSha256)) {
      throw new ApiKeyInputError(
        `Cannot import the API key: a different key with id "${parts.id}" already exists. ` +
          "Choose another id (the part between 'aat_' and the next '_') or revoke and delete the old key.",
      );
    }
    return { status: "existing", record: toApiKeyInfo(existing, now) } satisfies ImportedKeyOutcome;
  }

  async get(id: string): Promise<ApiKeyInfo | undefined> {
    const stored = await this.read(id);
    return stored === undefined ? undefined : toApiKeyInfo(stored.record, this.clock.now());
  }

  /** Every key, oldest first; secrets and hashes are never part of the result. */
  async list(): Promise<ApiKeyInfo[]> {
    const now = this.clock.now();
    const keys: ApiKeyInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(API_KEY_RECORD_PREFIX, cursor === undefined ? {} : { cursor });
      for (const entry of page.entries)
        keys.push(toApiKeyInfo(parseStoredApiKey(entry.key, entry.value), now));
      cursor = page.cursor;
    } while (cursor !== undefined);
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Deletes a key record outright (revoke is what operators use; this is for discarding unused keys). */
  async remove(id: string): Promise<boolean> {
    if (!KEY_ID_PATTERN.test(id)) return false;
    return this.kv.delete(recordKey(id));
  }

  /** The bootstrap marker (see ensureBootstrapAdminKey), undefined before the first bootstrap. */
  async readBootstrapMarker(): Promise<BootstrapMarker | undefined> {
    const entry = await this.kv.get(BOOTSTRAP_MARKER_KEY);
    return entry === undefined ? undefined : parseMarker(entry.value);
  }

  /** Writes the bootstrap marker unless one exists; exactly one of many concurrent callers wins. */
  async claimBootstrapMarker(marker: BootstrapMarker): Promise<{ won: boolean; marker: BootstrapMarker }> {
    const written = await this.kv.setIfAbsent(BOOTSTRAP_MARKER_KEY, marker);
    return written.ok ? { won: true, marker } : { won: false, marker: parseMarker(written.current?.value) };
  }

  /** Marks the key revoked; undefined when no such key exists. Revoking twice keeps the first revocation. */
  async revoke(id: string, by: string): Promise<ApiKeyInfo | undefined> {
    for (;;) {
      const stored = await this.read(id);
      if (stored === undefined) return undefined;
      const now = this.clock.now();
      if (stored.record.revokedAt !== undefined) return toApiKeyInfo(stored.record, now);
      const revoked: StoredApiKey = {
        ...stored.record,
        revokedAt: new Date(now).toISOString(),
        revokedBy: by,
      };
      const written = await this.kv.compareAndSet(recordKey(id), revoked, stored.version);
      if (written.ok) return toApiKeyInfo(revoked, now);
    }
  }

  /**
   * Checks a presented key. Revoked and expired are only reported to someone holding the right secret;
   * a wrong secret for a real id is "unknown", so guesses learn nothing about which ids exist.
   */
  async verify(presentedKey: string): Promise<Principal | ApiKeyFailure> {
    const parts = parseApiKey(presentedKey);
    if (parts === undefined) return failure("malformed");
    const stored = await this.read(parts.id);
    if (stored === undefined || !secretMatches(parts.secret, stored.record.secretSha256)) {
      return failure("unknown");
    }
    const { record } = stored;
    const now = this.clock.now();
    const status = keyStatus(record, now);
    if (status !== "active") return failure(status);
    await this.touch(record, stored.version, now);
    return { id: `key:${record.id}`, name: record.name, roles: [...record.roles], via: "apiKey" };
  }

  private async touch(record: StoredApiKey, version: number, now: number): Promise<void> {
    const last = record.lastUsedAt === undefined ? undefined : Date.parse(record.lastUsedAt);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    // Losing this race to a concurrent request or a revocation is fine: the other write wins.
    await this.kv.compareAndSet(
      recordKey(record.id),
      { ...record, lastUsedAt: new Date(now).toISOString() },
      version,
    );
  }

  private async read(id: string): Promise<{ record: StoredApiKey; version: number } | undefined> {
    if (!KEY_ID_PATTERN.test(id)) return undefined;
    const key = recordKey(id);
    const entry = await this.kv.get(key);
    if (entry === undefined) return undefined;
    return { record: parseStoredApiKey(key, entry.value), version: entry.version };
  }
}

/** Written once the first admin key exists, so restarts and other replicas never make another. */
export const BOOTSTRAP_MARKER_KEY = "auth/bootstrap";

export interface BootstrapMarker {
  /** The bootstrap key's id; absent when keys existed before any bootstrap ran. */
  id?: string;
  source: "generated" | "configured" | "pre-existing keys";
}

function parseMarker(value: unknown): BootstrapMarker {
  if (typeof value !== "object" || value === null) return { source: "pre-existing keys" };
  const id = "id" in value && typeof value.id === "string" ? value.id : undefined;
  const source =
    "source" in value && (value.source === "generated" || value.source === "configured")
      ? value.source
      : "pre-existing keys";
  return id === undefined ? { source } : { id, source };
}

const KEY_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

function recordKey(id: string): string {
  return API_KEY_RECORD_PREFIX + id;
}

export function isApiKeyFailure(value: Principal | ApiKeyFailure): value is ApiKeyFailure {
  return "error" in value;
}
