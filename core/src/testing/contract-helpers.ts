import { randomBytes } from "node:crypto";

/** Lower-case letters and digits only, so it is a valid queue/topic/stream name fragment on every backend. */
export function uniqueSuffix(): string {
  return Date.now().toString(36) + randomBytes(5).toString("hex");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns something other than undefined, or fails after `patienceMs`
 * with a message naming what was awaited. Timing is never asserted, only awaited.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  patienceMs: number,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new Error(`gave up after ${patienceMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}
