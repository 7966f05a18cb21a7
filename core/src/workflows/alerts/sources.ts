import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ConfiguredSource } from "../../config/alerts.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import type { Secrets } from "../../secrets/secrets.js";
import { ALERT_FORMATS } from "./ocsf.js";
import {
  SOURCE_AUTH_HEADER_PATTERN,
  SOURCE_AUTH_MODES,
  SOURCE_ID_FORM,
  SOURCE_ID_PATTERN,
} from "./source-auth.js";

export * from "./source-auth.js";

/**
 * Webhook sources: where alerts come from, which mapper reads them and how a delivery proves it is
 * genuine. Kept in KV (created through the API) or given in configuration (read-only).
 */

// Classic copies of source-auth.ts's (zod/mini) sourceIdSchema and sourceAuthSchema, from the same
// patterns: these are also the HTTP API's schemas, and its OpenAPI generator reads classic schemas only.
const apiSourceIdSchema = z.string().regex(SOURCE_ID_PATTERN, SOURCE_ID_FORM);
const apiSourceAuthSchema = z.object({
  mode: z.enum(SOURCE_AUTH_MODES),
  header: z.string().regex(SOURCE_AUTH_HEADER_PATTERN).optional(),
  username: z.string().min(1).optional(),
});

/** At most this many secrets are active at once: the current one and, during a rotation, the previous. */
export const MAX_ACTIVE_SECRETS = 2;
export const DEFAULT_SOURCE_BODY_LIMIT = 1024 * 1024;

const storedSecretSchema = z.object({ id: z.string(), value: z.string().min(1), createdAt: z.number() });

export const webhookSourceSchema = z.object({
  id: apiSourceIdSchema,
  format: z.enum(ALERT_FORMATS),
  auth: apiSourceAuthSchema,
  /** Newest first. */
  secrets: z.array(storedSecretSchema).min(1).max(MAX_ACTIVE_SECRETS),
  disabled: z.boolean().default(false),
  description: z.string().optional(),
  /** HMAC: how far a signature's timestamp may be from now (default limits.webhookReplayWindowMs). */
  toleranceMs: z.number().int().positive().optional(),
  maxBodyBytes: z.number().int().positive().default(DEFAULT_SOURCE_BODY_LIMIT),
  /** Same fingerprint within this window merges into the existing alert (default alerts.dedupeWindowMs). */
  dedupeWindowMs: z.number().int().positive().optional(),
  /** Alerts sharing an observable within this window are linked as related. */
  relatedWindowMs: z.number().int().positive().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  origin: z.enum(["api", "config"]).default("api"),
});
export type WebhookSource = z.infer<typeof webhookSourceSchema>;

/** What a caller may set when creating a source. */
export const createSourceSchema = z
  .strictObject({
    id: apiSourceIdSchema,
    format: z.enum(ALERT_FORMATS),
    auth: apiSourceAuthSchema,
    /** Supply the secret (e.g. the one already set in GitHub or EventBridge); generated when absent. */
    secret: z.string().min(16, "use at least 16 characters").optional(),
    description: z.string().max(500).optional(),
    toleranceMs: z.number().int().positive().optional(),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024)
      .optional(),
    dedupeWindowMs: z.number().int().positive().optional(),
    relatedWindowMs: z.number().int().positive().optional(),
  })
  .refine((s) => s.auth.mode !== "basic" || s.auth.username !== undefined, {
    path: ["auth", "username"],
    message: "basic auth needs a username (the secret is the password)",
  });
export type CreateSource = z.infer<typeof createSourceSchema>;

/** A source as the API shows it: secrets by id and age only, never their values. */
export function publicSource(source: WebhookSource) {
  const { secrets, ...rest } = source;
  return {
    ...rest,
    secrets: secrets.map((s) => ({ id: s.id, createdAt: new Date(s.createdAt).toISOString() })),
  };
}

export function generateSourceSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export class SourceConflictError extends Error {}

/** A configured source changed through the API: answered 409, the change belongs in the config file. */
export class ConfiguredSourceError extends SourceConflictError {
  constructor(readonly sourceId: string) {
    super(
      `source "${sourceId}" is defined in configuration (alerts.sources) and is read-only through the API: to rotate its secret or disable it, edit its entry in the config file (secret, previousSecret, disabled) and the secrets it names, then restart`,
    );
  }
}

/**
 * The sources of `alerts.sources` with their secrets read through the Secrets port. A secret that is
 * not set stops the start with a message naming the setting and where the secret is looked up.
 */
export async function resolveConfiguredSources(
  configured: readonly ConfiguredSource[],
  secrets: Secrets,
  now: number,
): Promise<WebhookSource[]> {
  const resolved: WebhookSource[] = [];
  for (const [index, c] of configured.entries()) {
    const values: Array<{ id: string; value: string; createdAt: number }> = [];
    for (const [field, name] of [
      ["secret", c.secret],
      ["previousSecret", c.previousSecret],
    ] as const) {
      if (name === undefined) continue;
      const value = await secrets.get(name);
      if (value === undefined) {
        const where = secrets.describe?.(name) ?? `the secret store's entry "${name}"`;
        throw new Error(
          `alerts.sources[${index}].${field} (source "${c.id}"): the secret "${name}" is not set; set ${where}, or remove the source from the configuration`,
        );
      }
      values.push({ id: `config:${name}`, value, createdAt: now });
    }
    const { secret: _s, previousSecret: _p, ...fields } = c;
    resolved.push(
      webhookSourceSchema.parse({
        ...fields,
        secrets: values,
        createdAt: now,
        updatedAt: now,
        origin: "config",
      }),
    );
  }
  return resolved;
}

const PREFIX = "alerts/sources/";

export class WebhookSourceStore {
  private readonly fixed = new Map<string, WebhookSource>();

  constructor(
    private readonly kv: KeyValue,
    private readonly clock: Clock,
    /** Sources from configuration: read-only, they win over KV ones with the same id. */
    configured: WebhookSource[] = [],
  ) {
    for (const source of configured) this.fixed.set(source.id, source);
  }

  async get(id: string): Promise<WebhookSource | undefined> {
    const fixed = this.fixed.get(id);
    if (fixed) return fixed;
    const entry = await this.kv.get(PREFIX + id);
    return entry ? webhookSourceSchema.parse(entry.value) : undefined;
  }

  async list(): Promise<WebhookSource[]> {
    const out = new Map(this.fixed);
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(PREFIX, { limit: 500, ...(cursor ? { cursor } : {}) });
      for (const e of page.entries) {
        const s = webhookSourceSchema.parse(e.value);
        if (!out.has(s.id)) out.set(s.id, s);
      }
      cursor = page.cursor;
    } while (cursor);
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Creates the source; returns it with the secret's value (shown to the caller once). */
  async create(input: CreateSource): Promise<{ source: WebhookSource; secret: string }> {
    if (this.fixed.has(input.id))
      throw new SourceConflictError(
        `source "${input.id}" is defined in configuration (alerts.sources): pick another id`,
      );
    const now = this.clock.now();
    const secret = input.secret ?? generateSourceSecret();
    const { secret: _omit, ...fields } = input;
    const source = webhookSourceSchema.parse({
      ...fields,
      secrets: [{ id: secretId(now), value: secret, createdAt: now }],
      createdAt: now,
      updatedAt: now,
      origin: "api",
    });
    const put = await this.kv.setIfAbsent(PREFIX + source.id, source);
    if (!put.ok) throw new SourceConflictError(`source "${input.id}" exists already`);
    return { source, secret };
  }

  /** A new current secret; the previous one stays valid until the next rotation (or is dropped at once). */
  async rotate(
    id: string,
    options: { secret?: string; keepPrevious: boolean },
  ): Promise<{ source: WebhookSource; secret: string } | undefined> {
    const secret = options.secret ?? generateSourceSecret();
    const source = await this.update(id, (s) => {
      const now = this.clock.now();
      const fresh = { id: secretId(now), value: secret, createdAt: now };
      return { ...s, secrets: options.keepPrevious ? [fresh, s.secrets[0]!] : [fresh], updatedAt: now };
    });
    return source ? { source, secret } : undefined;
  }

  async setDisabled(id: string, disabled: boolean): Promise<WebhookSource | undefined> {
    return this.update(id, (s) => ({ ...s, disabled, updatedAt: this.clock.now() }));
  }

  isConfigured(id: string): boolean {
    return this.fixed.has(id);
  }

  private async update(
    id: string,
    change: (s: WebhookSource) => WebhookSource,
  ): Promise<WebhookSource | undefined> {
    if (this.fixed.has(id)) throw new ConfiguredSourceError(id);
    for (;;) {
      const entry = await this.kv.get(PREFIX + id);
      if (!entry) return undefined;
      const next = webhookSourceSchema.parse(change(webhookSourceSchema.parse(entry.value)));
      const put = await this.kv.compareAndSet(PREFIX + id, next, entry.version);
      if (put.ok) return next;
    }
  }
}

function secretId(now: number): string {
  return `sec_${now.toString(36)}${randomBytes(3).toString("hex")}`;
}
