import type { RetryPolicy } from "../plan/schema.js";

/**
 * Delay before retry number `retry` (1 for the first retry). Jitter is deterministic: it comes from a
 * hash of the run, step key and attempt, so replaying the decider gives the same delays.
 * - fixed: `initial`; exponential: `initial · 2^(retry-1)`, capped at `maxDelay`;
 * - jitter `true` (full jitter): uniform in [0, delay]; a fraction f: `delay·(1-f) + f·delay·u`.
 */
export function retryDelay(policy: RetryPolicy, retry: number, seed: string): number {
  const base =
    policy.backoff === "fixed"
      ? policy.initial
      : Math.min(policy.maxDelay, policy.initial * 2 ** Math.max(0, retry - 1));
  const fraction = policy.jitter === true ? 1 : policy.jitter === false ? 0 : policy.jitter;
  if (fraction === 0 || base === 0) return base;
  const u = unitHash(seed);
  return Math.round(base * (1 - fraction) + fraction * base * u);
}

/** FNV-1a (32 bit) of the string, scaled to [0, 1). */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 0x1_0000_0000;
}
