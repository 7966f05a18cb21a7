import { type Clock, clockSchema, type Lease, type Lock, systemClock } from "@aat/core/ports";
import { z } from "zod";

const optionsSchema = z
  .object({
    clock: clockSchema,
    /** Holder name when acquire gives none (default "memory"). */
    holder: z.string().min(1),
  })
  .partial()
  .strict();

export type MemoryLockOptions = z.input<typeof optionsSchema>;

const leaseSchema = z.object({
  key: z.string().min(1),
  token: z.number().int().positive(),
  expiresAt: z.number(),
  holder: z.string(),
});

interface HeldLease {
  token: number;
  holder: string;
  expiresAt: number;
}

/**
 * The Lock port in one process, with the same semantics as RedisLock: a lease ends at `expiresAt` on the
 * injected clock unless renewed (a lapsed lease can no longer be renewed, even before anyone takes it),
 * and fencing tokens per key only ever rise, so they are remembered after release and expiry.
 */
export class MemoryLock implements Lock {
  private readonly leases = new Map<string, HeldLease>();
  private readonly lastTokens = new Map<string, number>();
  private readonly clock: Clock;
  private readonly defaultHolder: string;

  constructor(options: MemoryLockOptions = {}) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success)
      throw new TypeError(`MemoryLock options are invalid: ${z.prettifyError(parsed.error)}`);
    this.clock = parsed.data.clock ?? systemClock;
    this.defaultHolder = parsed.data.holder ?? "memory";
  }

  async acquire(key: string, options: { ttlMs: number; holder?: string }): Promise<Lease | undefined> {
    assertKey(key, "acquire");
    const ttlMs = assertTtl(options?.ttlMs, `acquire("${key}")`);
    const holder = options.holder ?? this.defaultHolder;
    if (typeof holder !== "string" || holder.length === 0) {
      throw new TypeError(`MemoryLock.acquire("${key}"): holder must be a non-empty string`);
    }
    if (this.live(key)) return undefined;
    const token = (this.lastTokens.get(key) ?? 0) + 1;
    this.lastTokens.set(key, token);
    const expiresAt = this.clock.now() + ttlMs;
    this.leases.set(key, { token, holder, expiresAt });
    return { key, token, expiresAt, holder };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    const held = checkLease(lease, "renew");
    const validTtl = assertTtl(ttlMs, `renew("${held.key}")`);
    const current = this.live(held.key);
    if (!current || current.token !== held.token || current.holder !== held.holder) return undefined;
    current.expiresAt = this.clock.now() + validTtl;
    return { ...held, expiresAt: current.expiresAt };
  }

  async release(lease: Lease): Promise<boolean> {
    const held = checkLease(lease, "release");
    const current = this.live(held.key);
    if (!current || current.token !== held.token || current.holder !== held.holder) return false;
    this.leases.delete(held.key);
    return true;
  }

  /** The live lease of a key, dropping it when it has lapsed. */
  private live(key: string): HeldLease | undefined {
    const lease = this.leases.get(key);
    if (lease === undefined) return undefined;
    if (lease.expiresAt > this.clock.now()) return lease;
    this.leases.delete(key);
    return undefined;
  }
}

function assertKey(key: string, operation: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(
      `MemoryLock.${operation}: key must be a non-empty string, got ${JSON.stringify(key)}`,
    );
  }
}

function assertTtl(ttlMs: unknown, where: string): number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError(
      `MemoryLock.${where}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`,
    );
  }
  return ttlMs;
}

function checkLease(lease: Lease, operation: string): Lease {
  const parsed = leaseSchema.safeParse(lease);
  if (!parsed.success) {
    throw new TypeError(
      `MemoryLock.${operation}: pass the lease acquire returned; this one is invalid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}
