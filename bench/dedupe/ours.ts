import { RedisKeyValue } from "@aat/adapter-redis";
import { DedupeService, hashPayload } from "@aat/core";

export type Idempotent<P, R> = (payload: P) => Promise<R>;

/** A completed result is remembered this long; Powertools' default expiry is the same hour. */
export const EXPIRES_AFTER_MS = 3_600_000;
/** How long a claim protects its holder (Powertools: the remaining Lambda time, else until expiry). */
const IN_PROGRESS_EXPIRY_MS = 60_000;

/**
 * `fn` made idempotent with the DedupeService on Redis, the way Powertools' makeIdempotent wraps a
 * function: the key is a hash of the payload, the first call claims it, runs `fn` and stores the
 * result, a later call with the same payload gets the stored result back without running `fn`.
 */
export async function dedupeOnRedis<P, R>(
  url: string,
  keyPrefix: string,
  fn: (payload: P) => Promise<R>,
): Promise<{ call: Idempotent<P, R>; close: () => Promise<void> }> {
  const kv = await RedisKeyValue.connect({ url, keyPrefix });
  const dedupe = new DedupeService({ kv });
  const call = async (payload: P): Promise<R> => {
    const key = hashPayload(payload);
    const claim = await dedupe.claim(key, {
      expiresAfterMs: EXPIRES_AFTER_MS,
      inProgressExpiryMs: IN_PROGRESS_EXPIRY_MS,
    });
    if (claim.status === "duplicate") return claim.result as R;
    if (claim.status !== "claimed") throw new Error(`dedupe claim of ${key} came back ${claim.status}`);
    const result = await fn(payload);
    await dedupe.complete(key, result, claim);
    return result;
  };
  return { call, close: () => kv.close() };
}
