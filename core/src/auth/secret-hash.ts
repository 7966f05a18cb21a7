import { createHash, timingSafeEqual } from "node:crypto";

/**
 * API key secrets carry at least 256 bits of randomness, so a plain SHA-256 is enough to make a leaked
 * record useless; a slow password hash would only slow every request down.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares digests in constant time so response timing does not reveal how much of a guess matched. */
export function secretMatches(presentedSecret: string, storedHashHex: string): boolean {
  const presented = createHash("sha256").update(presentedSecret, "utf8").digest();
  const stored = Buffer.from(storedHashHex, "hex");
  if (stored.length !== presented.length) return false;
  return timingSafeEqual(presented, stored);
}
