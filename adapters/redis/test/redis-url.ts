import { uniqueSuffix } from "@aat/core/testing";
import { Redis } from "ioredis";

/** The server the integration tests use: REDIS_URL, or the loopback default scripts/services.sh starts. */
export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix no other run or test file uses, so suites can share one server. */
export function uniquePrefix(label: string): string {
  return `aat-test-${label}-${uniqueSuffix()}`;
}

/** A plain client for looking at what the adapters wrote; close it with `quit()`. */
export function inspector(): Redis {
  return new Redis(redisUrl);
}
