import { DedupeService } from "@aat/core";
import { afterAll, expect, it } from "vitest";
import { deleteNamespace, Namespace, RedisKeyValue } from "../src/index.js";
import { inspector, redisUrl, uniquePrefix } from "./redis-url.js";

const admin = inspector();
const prefix = uniquePrefix("dedupe");
const kv = await RedisKeyValue.connect({ url: redisUrl, keyPrefix: prefix });

afterAll(async () => {
  await kv.close();
  await deleteNamespace(admin, prefix);
  await admin.quit();
});

it("DedupeService on Redis: claim, renew, complete and duplicate, with claim records kept out of the list index", async () => {
  const dedupe = new DedupeService({ kv });
  const options = { expiresAfterMs: 60_000, inProgressExpiryMs: 30_000, payloadHash: "h1" };
  const hold = await dedupe.claim("order/1", options);
  if (hold.status !== "claimed") throw new Error(`expected a claim, got ${hold.status}`);
  expect(await dedupe.claim("order/1", options)).toMatchObject({ status: "in_progress" });
  expect(await dedupe.renew("order/1", hold, { inProgressExpiryMs: 45_000 })).toBe(true);
  // complete after a renew: the hold's version is stale, so it reads and compare-and-sets at the new one.
  expect(await dedupe.complete("order/1", { done: 1 }, hold)).toBe(true);
  expect(await dedupe.claim("order/1", options)).toEqual({ status: "duplicate", result: { done: 1 } });
  expect(await dedupe.claim("order/1", { ...options, payloadHash: "h2" })).toEqual({
    status: "payload_mismatch",
  });
  // A second key completed on the one-round-trip path.
  const second = await dedupe.claim("order/2", options);
  if (second.status !== "claimed") throw new Error(`expected a claim, got ${second.status}`);
  expect(await dedupe.complete("order/2", { done: 2 }, second)).toBe(true);
  expect(await dedupe.complete("order/2", { done: 3 }, second)).toBe(false);
  expect(await dedupe.claim("order/2", options)).toEqual({ status: "duplicate", result: { done: 2 } });

  const namespace = new Namespace(prefix);
  expect(await admin.exists(namespace.index, namespace.expiries)).toBe(0);
  expect(await admin.pttl(namespace.value(dedupe.recordKey("order/1")))).toBeGreaterThan(50_000);
});
