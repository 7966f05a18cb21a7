import { deleteNamespace } from "@aat/adapter-redis";
import { keyValueContract, uniqueSuffix } from "@aat/core/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningDevProxy, startDevProxy } from "../src/dev-proxy.js";
import { UpstashKeyValue } from "../src/index.js";

// The Upstash adapter over the project's dev/test REST proxy, in front of the real Redis (REDIS_URL).
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const keyPrefix = `aat-test-upstash-${uniqueSuffix()}`;
let proxy: RunningDevProxy;

beforeAll(async () => {
  proxy = await startDevProxy({ redisUrl, token: `token-${uniqueSuffix()}` });
});

afterAll(async () => {
  const admin = new Redis(redisUrl);
  await deleteNamespace(admin, keyPrefix);
  await admin.quit();
  await proxy.close();
});

keyValueContract("UpstashKeyValue through the dev proxy", async () => ({
  kv: await UpstashKeyValue.connect({ url: proxy.url, token: proxy.token, keyPrefix }),
}));

it("rejects a wrong token with a clear error", async () => {
  await expect(UpstashKeyValue.connect({ url: proxy.url, token: "wrong-token", keyPrefix })).rejects.toThrow(
    /UpstashKeyValue\.ping failed .*Unauthorized/,
  );
});

it("reads what RedisKeyValue's layout holds: one <version>|<json> string per key", async () => {
  const kv = new UpstashKeyValue({ url: proxy.url, token: proxy.token, keyPrefix });
  await kv.set("layout/a", { n: 1 });
  await kv.set("layout/a", { n: 2 });
  const admin = new Redis(redisUrl);
  expect(await admin.get(`{${keyPrefix}}:v:layout/a`)).toBe('2|{"n":2}');
  await admin.quit();
  expect(await kv.delete("layout/a")).toBe(true);
});

it("sends scripts by SHA and in full only after the server lost them (EVALSHA, NOSCRIPT, EVAL)", async () => {
  const kv = new UpstashKeyValue({ url: proxy.url, token: proxy.token, keyPrefix });
  const admin = new Redis(redisUrl);
  await admin.script("FLUSH");
  await admin.quit();
  await kv.set("noscript/a", 1);
  expect(kv.scriptLoads).toBe(1);
  await kv.set("noscript/a", 2);
  expect(kv.scriptLoads).toBe(1);
  expect(await kv.get("noscript/a")).toEqual({ value: 2, version: 2 });
  expect(await kv.delete("noscript/a")).toBe(true);
});
