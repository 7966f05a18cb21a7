import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";

export const AUDIT_PREFIX = "audit/";

/** Zero-padded width of the millisecond timestamp in audit keys: lexicographic order is time order. */
const MS_DIGITS = 15;
const RANDOM_HEX = 16;
const ENTRY_ID_PATTERN = new RegExp(`^(\\d{${MS_DIGITS}})-([0-9a-f]{${RANDOM_HEX}})$`);
/** Entries stamped further ahead than this by a replica's fast clock are not looked for by `after`. */
const FUTURE_SKEW_MS = 86_400_000;
const MAX_LIST_LIMIT = 1_000;

const jsonValue: z.ZodType<unknown> = z.json();

export const auditResultSchema = z.enum(["ok", "denied", "error"]);
export type AuditResult = z.infer<typeof auditResultSchema>;

export const auditEntrySchema = z
  .object({
    /** `<zero-padded ms>-<random>`: pass as `after` to continue listing from this entry. */
    id: z.string(),
    /** Principal id ("key:<id>", "oidc:<sub>") or "anonymous". */
    who: z.string(),
    /** What was attempted, e.g. "POST /v1/runs/:id/cancel". */
    action: z.string(),
    /** What it was attempted on, e.g. "/v1/runs/r-123" or "key:ab12". */
    target: z.string(),
    result: auditResultSchema,
    /** HTTP status answered. */
    status: z.number().int(),
    at: z.iso.datetime({ offset: true }),
    requestId: z.string(),
    details: z.record(z.string(), jsonValue).optional(),
  })
  .meta({ id: "AuditEntry", description: "One state-changing call: who, what, when and how it ended." });

export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditRecordInputSchema = auditEntrySchema.omit({ id: true, at: true }).extend({
  /** When it happened; the log's clock when absent. */
  at: z.iso.datetime({ offset: true }).optional(),
});

export type AuditRecordInput = z.input<typeof auditRecordInputSchema>;

export interface AuditListOptions {
  /** An entry id: only entries recorded after it are returned. */
  after?: string;
  /** At most this many entries (1-1000). */
  limit: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Present when the page is full: pass it as `after` for the next page. */
  next?: string;
}

const SECRET_FIELD = /secret|password|passwd|token|authorization|api[-_]?key|credential|cookie/i;

/** Append-only log of state-changing calls, ordered by time under `audit/<ms>/<random>`. */
export class AuditLog {
  constructor(
    private readonly kv: KeyValue,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores an entry. With `replaces` (the id of an entry from `prepare`), the entry takes that id and
   * key, so it replaces the prepared one whether or not that was stored.
   */
  async record(input: AuditRecordInput, options: { replaces?: string } = {}): Promise<AuditEntry> {
    const { key, entry } = this.build(input, "record", options.replaces);
    await this.kv.set(key, entry);
    return entry;
  }

  /**
   * The entry `record` would store and its key, without storing it: for a caller that stores it in the
   * same atomic KeyValue write as its own records (the webhook route, with the run it starts).
   */
  prepare(input: AuditRecordInput): { key: string; entry: AuditEntry } {
    return this.build(input, "prepare");
  }

  private build(
    input: AuditRecordInput,
    operation: string,
    replaces?: string,
  ): { key: string; entry: AuditEntry } {
    const parsed = parseAuditRecordInput(input);
    if (!parsed.success)
      throw new TypeError(`AuditLog.${operation}: invalid entry: ${z.prettifyError(parsed.error)}`);
    if (replaces !== undefined && !ENTRY_ID_PATTERN.test(replaces)) {
      throw new TypeError(`AuditLog.${operation}: replaces "${replaces}" is not an audit entry id`);
    }
    const { who, action, target, result, status, requestId, at, details } = parsed.data;
    const ms =
      replaces !== undefined
        ? Number(replaces.slice(0, MS_DIGITS))
        : at === undefined
          ? this.clock.now()
          : Date.parse(at);
    const id = replaces ?? `${String(ms).padStart(MS_DIGITS, "0")}-${nextSuffix()}`;
    // Fields named one by one (not a rest copy of the parsed input): same entry, cheaper to build.
    const entry: AuditEntry = {
      id,
      who,
      action,
      target,
      result,
      status,
      requestId,
      at: new Date(ms).toISOString(),
    };
    if (details !== undefined) entry.details = scrubSecrets(details);
    return { key: entryKey(id), entry };
  }

  /** Entries in the order they were recorded (by their timestamp), oldest first. */
  async list(options: AuditListOptions): Promise<AuditPage> {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new TypeError(
        `AuditLog.list: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`,
      );
    }
    const entries: AuditEntry[] = [];
    if (options.after === undefined) {
      await this.collect(AUDIT_PREFIX, undefined, entries, limit);
    } else {
      const match = ENTRY_ID_PATTERN.exec(options.after);
      if (!match?.[1]) {
        throw new TypeError(
          `AuditLog.list: after "${options.after}" is not an audit entry id; expected <${MS_DIGITS} digits>-<${RANDOM_HEX} hex digits> as returned in "next"`,
        );
      }
      const afterKey = entryKey(options.after);
      const digits = match[1];
      // Same millisecond first, then every later bucket in ascending order.
      await this.collect(`${AUDIT_PREFIX}${digits}/`, afterKey, entries, limit);
      const latest = String(this.clock.now() + FUTURE_SKEW_MS).padStart(MS_DIGITS, "0");
      for (const prefix of laterPrefixes(digits, latest)) {
        if (entries.length >= limit) break;
        await this.collect(`${AUDIT_PREFIX}${prefix}`, undefined, entries, limit);
      }
    }
    const last = entries.at(-1);
    return entries.length >= limit && last !== undefined ? { entries, next: last.id } : { entries };
  }

  private async collect(prefix: string, afterKey: string | undefined, into: AuditEntry[], limit: number) {
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(prefix, {
        limit: Math.min(MAX_LIST_LIMIT, limit - into.length + 1),
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const { key, value } of page.entries) {
        if (afterKey !== undefined && key <= afterKey) continue;
        const parsed = auditEntrySchema.safeParse(value);
        if (!parsed.success) {
          throw new Error(
            `The audit entry at "${key}" is not a valid audit entry: ${z.prettifyError(parsed.error)}`,
          );
        }
        into.push(parsed.data);
        if (into.length >= limit) return;
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
}

type ParsedRecordInput = z.output<typeof auditRecordInputSchema>;
const RESULTS: ReadonlySet<unknown> = new Set(auditResultSchema.options);

/**
 * `auditRecordInputSchema.safeParse`, with a plain check first for the common shape (no `at`; details,
 * if any, a flat record of strings, finite numbers, booleans and null): such input gets the very output
 * the schema gives (known fields only, in the schema's order). Anything else, including every invalid
 * input, goes through the schema, so errors are unchanged. The schema was about 4 % of the webhook
 * route's CPU (its recursive JSON check above all); a test compares both paths on generated input.
 */
export function parseAuditRecordInput(
  input: unknown,
): { success: true; data: ParsedRecordInput } | z.ZodSafeParseError<ParsedRecordInput> {
  const fast = plainRecordInput(input);
  if (fast !== undefined) return { success: true, data: fast };
  return auditRecordInputSchema.safeParse(input);
}

function plainRecordInput(input: unknown): ParsedRecordInput | undefined {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined;
  const { who, action, target, result, status, requestId, details, at } = input as Record<string, unknown>;
  if (
    typeof who !== "string" ||
    typeof action !== "string" ||
    typeof target !== "string" ||
    !RESULTS.has(result) ||
    !Number.isSafeInteger(status) ||
    typeof requestId !== "string" ||
    at !== undefined
  ) {
    return undefined;
  }
  const data: ParsedRecordInput = {
    who,
    action,
    target,
    result: result as AuditResult,
    status: status as number,
    requestId,
  };
  // The schema's output keeps an optional key that was given as undefined, in its place.
  if (details === undefined) {
    if (Object.hasOwn(input, "details")) data.details = undefined;
    if (Object.hasOwn(input, "at")) data.at = undefined;
    return data;
  }
  if (
    typeof details !== "object" ||
    details === null ||
    Object.getPrototypeOf(details) !== Object.prototype ||
    Object.getOwnPropertySymbols(details).length > 0
  )
    return undefined;
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(details)) {
    if (name === "__proto__") return undefined;
    const value = (details as Record<string, unknown>)[name];
    if (
      !(
        value === null ||
        typeof value === "string" ||
        typeof value === "boolean" ||
        (typeof value === "number" && Number.isFinite(value))
      )
    )
      return undefined;
    copy[name] = value;
  }
  data.details = copy;
  if (Object.hasOwn(input, "at")) data.at = undefined;
  return data;
}

let sequence = 0;

/**
 * Entries of one millisecond keep the order this process recorded them in: the suffix starts with a
 * process-wide counter, then random bits keep replicas recording in the same millisecond apart.
 */
function nextSuffix(): string {
  sequence = (sequence + 1) % 0x1_0000_0000;
  // randomUUID draws from a cached entropy pool; its first 8 hex digits are random. randomBytes(4)
  // made a call into the system's random source per entry (a few % of the webhook route's CPU).
  return sequence.toString(16).padStart(8, "0") + randomUUID().slice(0, 8);
}

function entryKey(id: string): string {
  return AUDIT_PREFIX + id.replace("-", "/");
}

/**
 * Key prefixes covering every timestamp greater than `digits`, in ascending order: for each position from
 * the last digit up, the buckets with that digit raised. Buckets that start after `latest` hold nothing.
 */
export function laterPrefixes(digits: string, latest: string): string[] {
  const prefixes: string[] = [];
  for (let position = digits.length - 1; position >= 0; position--) {
    const head = digits.slice(0, position);
    const current = Number(digits[position]);
    for (let digit = current + 1; digit <= 9; digit++) {
      const prefix = `${head}${digit}`;
      if (prefix > latest.slice(0, prefix.length)) return prefixes;
      prefixes.push(prefix);
    }
  }
  return prefixes;
}

function scrubSecrets(details: Record<string, unknown>): Record<string, unknown> {
  const scrubbed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    scrubbed[name] = SECRET_FIELD.test(name) ? "[redacted]" : value;
  }
  return scrubbed;
}
