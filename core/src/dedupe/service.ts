import * as z from "zod/mini";
import { type Clock, systemClock } from "../ports/clock.js";
import type { KeyValue, KvConditionalResult } from "../ports/kv.js";
import { installZodDefaults } from "../zod-defaults.js";
import {
  type CompletedRecord,
  type DedupeRecord,
  dedupeRecordSchema,
  type InProgressRecord,
} from "./records.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface DedupeServiceOptions {
  kv: KeyValue;
  clock?: Clock;
  /** Namespace for every key the service writes (default "dedupe/"). */
  prefix?: string;
  /** Results whose JSON is larger than this many bytes are stored under a separate key (default 64 KiB). */
  maxInlineResultBytes?: number;
}

export interface DedupeClaimOptions {
  /** How long a completed result is remembered (and replayed to duplicates). */
  expiresAfterMs: number;
  /** How long a claim protects its holder; afterwards another caller may take it over. */
  inProgressExpiryMs: number;
  /** Fingerprint of the request (see `hashPayload`); a duplicate with a different one is refused. */
  payloadHash?: string;
}

/** Proof of holding a claim; pass it back to `complete` or `release`. */
export interface DedupeHold {
  status: "claimed";
  key: string;
  /** Unique to this claim: a takeover, release or expiry voids it even if a later claim reuses the version. */
  claimId: string;
  /** Version of the claim record this holder wrote. */
  version: number;
  expiresAfterMs: number;
  payloadHash?: string;
  /**
   * End of this claim's in-progress window as written (the holder's clock). Until then nobody else may
   * take the claim over, so `complete` can write at `version` without reading the record first.
   */
  claimableAt?: number;
}

export type DedupeClaim =
  | DedupeHold
  | { status: "duplicate"; result: unknown }
  | { status: "in_progress"; expiresAt: number }
  | { status: "payload_mismatch" };

const optionsSchema = z.object({
  kv: z.custom<KeyValue>(
    (value) => typeof (value as KeyValue | undefined)?.setIfAbsent === "function",
    "kv must implement the KeyValue port",
  ),
  clock: z.optional(
    z.custom<Clock>(
      (value) => typeof (value as Clock | undefined)?.now === "function",
      "clock must have now()",
    ),
  ),
  prefix: z.optional(z.string()),
  maxInlineResultBytes: z.optional(z.number().check(z.int(), z.positive())),
});

// zod 4 numbers refuse Infinity by themselves (classic's `.finite()` was a no-op).
export const claimOptionsSchema = z.object({
  expiresAfterMs: z.number().check(z.positive()),
  inProgressExpiryMs: z.number().check(z.positive()),
  payloadHash: z.optional(z.string().check(z.minLength(1))),
});

export const holdSchema = z.object({
  status: z.literal("claimed"),
  key: z.string(),
  claimId: z.string().check(z.minLength(1)),
  version: z.number().check(z.int(), z.positive()),
  expiresAfterMs: z.number().check(z.positive()),
  payloadHash: z.optional(z.string()),
  claimableAt: z.optional(z.number()),
});

const DEFAULT_PREFIX = "dedupe/";
const DEFAULT_MAX_INLINE_RESULT_BYTES = 64 * 1024;
/** A result stored by reference outlives its record by this much, so a live record never points at nothing. */
const RESULT_REF_GRACE_MS = 60_000;
/**
 * release refuses a claim this close to its record's expiry (capped at a tenth of its lifetime): if it
 * expired between our read and our delete, a new claim reusing the same version would be deleted.
 * (complete needs no margin: in that race it would store its own valid result over the newcomer's claim.)
 */
const EXPIRY_MARGIN_MS = 5_000;
/**
 * complete skips its read only while more than this remains of the claim's in-progress window, to allow
 * for clock skew between replicas and for the time the write takes to reach the store.
 */
const UNCHALLENGED_MARGIN_MS = 2_000;
/** Each round either settles or observes another writer's change; this bounds pathological contention. */
const MAX_CLAIM_ROUNDS = 16;

/**
 * Idempotency over the KeyValue port, with the semantics of AWS Powertools idempotency:
 * the first caller claims a key and does the work, concurrent callers see `in_progress`, later callers
 * get the stored result back (`duplicate`) until it expires, a holder that dies is taken over once its
 * in-progress window has passed, and a changed payload under the same key is refused.
 * Every transition is a conditional write, so any number of processes may share the store.
 */
export class DedupeService {
  private readonly kv: KeyValue;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly maxInlineResultBytes: number;
  /** Holds given up through this service: their version may since belong to someone else's claim. */
  private readonly released = new WeakSet<DedupeHold>();

  constructor(options: DedupeServiceOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success)
      throw new TypeError(`DedupeService options are invalid: ${z.prettifyError(parsed.error)}`);
    this.kv = parsed.data.kv;
    this.clock = parsed.data.clock ?? systemClock;
    this.prefix = parsed.data.prefix ?? DEFAULT_PREFIX;
    this.maxInlineResultBytes = parsed.data.maxInlineResultBytes ?? DEFAULT_MAX_INLINE_RESULT_BYTES;
  }

  /** Key of the claim/result record for `key`. */
  recordKey(key: string): string {
    return `${this.prefix}claim/${key}`;
  }

  /** Key where a large result of the claim `claimId` is stored by reference. */
  resultKey(key: string, claimId: string): string {
    return `${this.prefix}result/${key}/${claimId}`;
  }

  async claim(key: string, options: DedupeClaimOptions): Promise<DedupeClaim> {
    assertKey(key, "claim");
    if (!validClaimOptions(options)) {
      const parsed = claimOptionsSchema.safeParse(options);
      if (!parsed.success) {
        throw new TypeError(
          `DedupeService.claim("${key}"): options are invalid: ${z.prettifyError(parsed.error)}`,
        );
      }
    }
    const { expiresAfterMs, inProgressExpiryMs, payloadHash } = options;
    const recordKey = this.recordKey(key);
    const ttlMs = Math.max(expiresAfterMs, inProgressExpiryMs);
    // node:crypto costs ~3 ms of a serverless cold start to load; loaded on first use (docs/benchmarks.md, cold start).
    const claimId = process.getBuiltinModule("node:crypto").randomUUID();
    const writeOptions = { ttlMs, unlisted: true };
    let written = inProgress(claimId, this.clock.now(), inProgressExpiryMs, ttlMs, payloadHash);
    let outcome: KvConditionalResult = await this.kv.setIfAbsent(recordKey, written, writeOptions);
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      if (outcome.ok) {
        const hold: DedupeHold = {
          status: "claimed",
          key,
          claimId,
          version: outcome.version,
          expiresAfterMs,
        };
        if (payloadHash !== undefined) hold.payloadHash = payloadHash;
        hold.claimableAt = written.claimableAt;
        return hold;
      }
      const current = outcome.current;
      if (current === undefined) {
        // The record vanished between our write and the read (released or expired): try again.
        written = inProgress(claimId, this.clock.now(), inProgressExpiryMs, ttlMs, payloadHash);
        outcome = await this.kv.setIfAbsent(recordKey, written, writeOptions);
        continue;
      }
      const record = parseRecord(current.value, recordKey);
      const now = this.clock.now();
      if (record.status === "in_progress" && record.claimableAt > now && record.expiresAt > now) {
        if (mismatch(record, payloadHash)) return { status: "payload_mismatch" };
        return { status: "in_progress", expiresAt: record.claimableAt };
      }
      if (record.status === "completed" && record.expiresAt > now) {
        if (mismatch(record, payloadHash)) return { status: "payload_mismatch" };
        const stored = await this.readResult(record);
        if (stored.found) return { status: "duplicate", result: stored.result };
        // The referenced result is gone, so the record cannot answer duplicates: treat it as expired.
      }
      // A stale claim or an expired result: take it over. Only one of any number of racers wins this CAS.
      written = inProgress(claimId, this.clock.now(), inProgressExpiryMs, ttlMs, payloadHash);
      outcome = await this.kv.compareAndSet(recordKey, written, current.version, writeOptions);
    }
    throw new Error(
      `DedupeService.claim("${key}"): the record at ${recordKey} changed on every one of ${MAX_CLAIM_ROUNDS} attempts; ` +
        "something is rewriting it in a loop",
    );
  }

  /**
   * Stores the result of the claimed work, remembered for the claim's `expiresAfterMs`. Returns false
   * when the hold was lost: the claim was taken over after its in-progress window, released, or already
   * completed. A result that arrives after its claim expired unseen is still stored if nobody claimed since.
   */
  async complete(key: string, result: unknown, hold: DedupeHold): Promise<boolean> {
    this.assertHold(key, hold, "complete");
    const recordKey = this.recordKey(key);
    // Inside the claim's own in-progress window nobody else can have written the record (see
    // unchallengedVersion), so the usual read before the compare-and-set is skipped: one round trip.
    const unchallenged = this.unchallengedVersion(hold);
    const expectedVersion = unchallenged ?? (await this.heldVersion(recordKey, hold, false));
    if (expectedVersion === undefined) return false;
    const now = this.clock.now();
    const json = JSON.stringify(result);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, so a short JSON text needs no byte count.
    const large =
      json !== undefined &&
      json.length * 3 > this.maxInlineResultBytes &&
      Buffer.byteLength(json, "utf8") > this.maxInlineResultBytes;
    const record: CompletedRecord = {
      status: "completed",
      claimId: hold.claimId,
      completedAt: now,
      expiresAt: now + hold.expiresAfterMs,
    };
    if (hold.payloadHash !== undefined) record.payloadHash = hold.payloadHash;
    let resultRef: string | undefined;
    if (large) {
      resultRef = this.resultKey(key, hold.claimId);
      await this.kv.set(resultRef, result, { ttlMs: hold.expiresAfterMs + RESULT_REF_GRACE_MS });
      record.resultRef = resultRef;
    } else if (json !== undefined) {
      record.result = result;
    }
    const write = (version: number) =>
      this.kv.compareAndSet(recordKey, record, version, { ttlMs: hold.expiresAfterMs, unlisted: true });
    let outcome = await write(expectedVersion);
    if (!outcome.ok && unchallenged !== undefined) {
      // Something moved the record after all (an early takeover by a replica with a fast clock, an expiry):
      // decide as the read-first path would.
      const version = await this.heldVersion(recordKey, hold, false);
      if (version !== undefined) outcome = await write(version);
    }
    if (outcome.ok) return true;
    if (resultRef !== undefined) await this.kv.delete(resultRef);
    return false;
  }

  /**
   * `hold.version` when the record must still be the holder's claim at that version: the hold was not
   * released here and its in-progress window (less a margin for clock skew between replicas) has not
   * passed. Within the window others only read the record (they see in_progress), the holder alone
   * renews, completes or releases it, and its TTL is at least the window, so it cannot have been deleted
   * and re-created at the same version. Otherwise undefined: read the record first.
   */
  private unchallengedVersion(hold: DedupeHold): number | undefined {
    if (hold.claimableAt === undefined || this.released.has(hold)) return undefined;
    const now = this.clock.now();
    const window = hold.claimableAt - now;
    return window > UNCHALLENGED_MARGIN_MS ? hold.version : undefined;
  }

  /**
   * Keeps a live holder's claim: nobody may take it over for at least `inProgressExpiryMs` from now.
   * Only the holder can renew (the record must still carry its claimId and be in progress); returns false
   * when the hold was lost (taken over, released, completed), and the holder should then stop claiming
   * the effect as its own. A lapsed claim that nobody took over yet is renewed: the CAS on its version
   * makes that safe against a concurrent takeover.
   */
  async renew(key: string, hold: DedupeHold, options: { inProgressExpiryMs: number }): Promise<boolean> {
    this.assertHold(key, hold, "renew");
    const ms = options?.inProgressExpiryMs;
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(
        `DedupeService.renew("${key}"): inProgressExpiryMs must be a positive number of milliseconds, got ${String(ms)}`,
      );
    }
    const recordKey = this.recordKey(key);
    const current = await this.kv.get(recordKey);
    if (current === undefined) return false;
    const record = parseRecord(current.value, recordKey);
    if (record.status !== "in_progress" || record.claimId !== hold.claimId) return false;
    const now = this.clock.now();
    const renewed: InProgressRecord = {
      ...record,
      // Never shortens: a step with a long timeout keeps its longer initial window.
      claimableAt: Math.max(record.claimableAt, now + ms),
      expiresAt: Math.max(record.expiresAt, now + ms),
    };
    const outcome = await this.kv.compareAndSet(recordKey, renewed, current.version, {
      ttlMs: renewed.expiresAt - now,
      unlisted: true,
    });
    return outcome.ok;
  }

  /**
   * Gives the claim up so a retry can claim at once. Only the holder's own claim is deleted: after a
   * takeover, completion or expiry this returns false and changes nothing.
   */
  async release(key: string, hold: DedupeHold): Promise<boolean> {
    this.assertHold(key, hold, "release");
    const recordKey = this.recordKey(key);
    const expectedVersion = await this.heldVersion(recordKey, hold, true);
    if (expectedVersion === undefined || expectedVersion === 0) return false;
    const deleted = await this.kv.delete(recordKey, { expectedVersion });
    if (deleted) this.released.add(hold);
    return deleted;
  }

  /**
   * The version to write at when `hold` still holds the claim (0: the record is gone, so nobody else
   * holds it either), or undefined when the hold was lost.
   */
  private async heldVersion(
    recordKey: string,
    hold: DedupeHold,
    keepClearOfExpiry: boolean,
  ): Promise<number | undefined> {
    const current = await this.kv.get(recordKey);
    if (current === undefined) return 0;
    const record = parseRecord(current.value, recordKey);
    if (record.status !== "in_progress" || record.claimId !== hold.claimId) return undefined;
    if (keepClearOfExpiry) {
      const margin = Math.min(EXPIRY_MARGIN_MS, (record.expiresAt - record.claimedAt) / 10);
      if (record.expiresAt - this.clock.now() < margin) return undefined;
    }
    return current.version;
  }

  private async readResult(
    record: CompletedRecord,
  ): Promise<{ found: true; result: unknown } | { found: false }> {
    if (record.resultRef === undefined) return { found: true, result: record.result };
    const stored = await this.kv.get(record.resultRef);
    return stored === undefined ? { found: false } : { found: true, result: stored.value };
  }

  private assertHold(key: string, hold: DedupeHold, operation: string): void {
    assertKey(key, operation);
    if (!validHold(hold)) {
      const parsed = holdSchema.safeParse(hold);
      if (!parsed.success) {
        throw new TypeError(
          `DedupeService.${operation}("${key}"): pass the { status: "claimed" } object that claim() returned ` +
            `(${z.prettifyError(parsed.error)})`,
        );
      }
    }
    if (hold.key !== key) {
      throw new TypeError(
        `DedupeService.${operation}("${key}"): the hold belongs to key "${hold.key}"; pass the hold from claim("${key}")`,
      );
    }
  }
}

/** A fresh in-progress record of the claim `claimId`, written at `now`. */
function inProgress(
  claimId: string,
  now: number,
  inProgressExpiryMs: number,
  ttlMs: number,
  payloadHash: string | undefined,
): InProgressRecord {
  const record: InProgressRecord = {
    status: "in_progress",
    claimId,
    claimedAt: now,
    claimableAt: now + inProgressExpiryMs,
    expiresAt: now + ttlMs,
  };
  if (payloadHash !== undefined) record.payloadHash = payloadHash;
  return record;
}

/**
 * The same checks as claimOptionsSchema, written out because they run on every claim (zod's safeParse
 * costs a few microseconds a call, measurable next to a Redis round trip). The schema stays the
 * authority: whatever this refuses is parsed by it, which throws its error or, should the two ever
 * disagree, lets the call go on; a test holds both to the same verdicts.
 */
export function validClaimOptions(options: unknown): options is DedupeClaimOptions {
  if (typeof options !== "object" || options === null) return false;
  const { expiresAfterMs, inProgressExpiryMs, payloadHash } = options as Record<string, unknown>;
  return (
    positiveFinite(expiresAfterMs) &&
    positiveFinite(inProgressExpiryMs) &&
    (payloadHash === undefined || (typeof payloadHash === "string" && payloadHash.length > 0))
  );
}

/** The same checks as holdSchema, written out for the same reason as validClaimOptions. */
export function validHold(hold: unknown): hold is DedupeHold {
  if (typeof hold !== "object" || hold === null) return false;
  const h = hold as Record<string, unknown>;
  return (
    h.status === "claimed" &&
    typeof h.key === "string" &&
    typeof h.claimId === "string" &&
    h.claimId.length > 0 &&
    Number.isSafeInteger(h.version) &&
    (h.version as number) > 0 &&
    positiveFinite(h.expiresAfterMs) &&
    (h.payloadHash === undefined || typeof h.payloadHash === "string") &&
    (h.claimableAt === undefined || (typeof h.claimableAt === "number" && Number.isFinite(h.claimableAt)))
  );
}

function positiveFinite(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

function parseRecord(value: unknown, recordKey: string): DedupeRecord {
  const parsed = dedupeRecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `DedupeService: ${recordKey} does not hold a dedupe record (${z.prettifyError(parsed.error)}); ` +
        "another writer uses this key, so give the DedupeService its own prefix",
    );
  }
  return parsed.data;
}

function mismatch(record: DedupeRecord, payloadHash: string | undefined): boolean {
  return payloadHash !== undefined && record.payloadHash !== undefined && record.payloadHash !== payloadHash;
}

function assertKey(key: string, operation: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(
      `DedupeService.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
    );
  }
}
