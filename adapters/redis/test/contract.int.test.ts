import { keyValueContract, lockContract } from "@aat/core/testing";
import { afterAll, expect, it } from "vitest";
import { deleteNamespace, Namespace, RedisKeyValue, RedisLock } from "../src/index.js";
import { inspector, redisUrl, uniquePrefix } from "./redis-url.js";

// One namespace for this run; the suites use random key prefixes inside it, and afterAll removes it all.
const keyPrefix = uniquePrefix("contract");

keyValueContract("RedisKeyValue", async () => ({
  kv: await RedisKeyValue.connect({ url: redisUrl, keyPrefix }),
}));

keyValueContract("RedisKeyValue with list pages capped at 3", async () => ({
  kv: await RedisKeyValue.connect({ url: redisUrl, keyPrefix, maxListLimit: 3 }),
}));

lockContract("RedisLock", async () => {
  const lock = await RedisLock.connect({ url: redisUrl, keyPrefix });
  return { lock, cleanup: () => lock.close() };
});

const admin = inspector();

afterAll(async () => {
  await deleteNamespace(admin, keyPrefix);
  await admin.quit();
});

it("leaves only lock fence counters behind once the suites deleted their keys", async () => {
  // Declared last, so it runs after the suites above. Values, index and expiry entries must all be gone:
  // deleted keys leave the index at once, expired ones were dropped by the suites' final listings.
  const namespace = new Namespace(keyPrefix);
  const left = await admin.keys(namespace.pattern);
  expect(left.length).toBeGreaterThan(0);
  expect(left.filter((key) => !key.startsWith(namespace.fencePrefix))).toEqual([]);
});
