/**
 * Lock port: a lease on a named resource with a fencing token, so that work which must run once at a
 * time across replicas (a schedule tick, a repository re-index) does, and a holder that lost its lease
 * can be recognised by the token it carries.
 *
 * Semantics every adapter must honour (checked by `lockContract` in `@aat/core/testing`):
 * - `acquire` succeeds for exactly one of many concurrent callers while no live lease exists.
 * - Every successful acquire of a key returns a fencing token strictly greater than any earlier token
 *   for that key (also after expiry or release), so downstream writes can reject stale holders.
 * - A lease ends at `expiresAt` unless renewed; then another caller may acquire it.
 * - `renew` and `release` only act for the current holder (same key and token); they report false
 *   (renew: undefined) when the lease was lost.
 */
export interface Lease {
  key: string;
  /** Strictly increasing per key across all acquisitions. */
  token: number;
  /** Epoch milliseconds when the lease ends unless renewed. */
  expiresAt: number;
  /** Who holds it (for diagnostics). */
  holder: string;
}

export interface Lock {
  /** Take the lease for `ttlMs`, or undefined when someone else holds a live lease. */
  acquire(key: string, options: { ttlMs: number; holder?: string }): Promise<Lease | undefined>;
  /** Extend a lease we hold; undefined when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | undefined>;
  /** Give the lease up; false when it was no longer ours. */
  release(lease: Lease): Promise<boolean>;
}
