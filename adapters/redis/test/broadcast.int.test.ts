import { broadcastContract, uniqueSuffix } from "@aat/core/testing";
import { describe, expect, it } from "vitest";
import { RedisBroadcast } from "../src/index.js";
import { redisUrl } from "./redis-url.js";

broadcastContract("RedisBroadcast on the real server", async () => {
  const keyPrefix = `broadcast-${uniqueSuffix()}`;
  return {
    a: await RedisBroadcast.connect({ url: redisUrl, keyPrefix }),
    b: await RedisBroadcast.connect({ url: redisUrl, keyPrefix }),
  };
});

describe("RedisBroadcast", () => {
  it("keeps deployments with other key prefixes apart", async () => {
    const a = await RedisBroadcast.connect({ url: redisUrl, keyPrefix: `broadcast-a-${uniqueSuffix()}` });
    const b = await RedisBroadcast.connect({ url: redisUrl, keyPrefix: `broadcast-b-${uniqueSuffix()}` });
    const received: string[] = [];
    await b.subscribe("chat", (message) => received.push(message));
    a.publish("chat", "not for b");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
    await a.close();
    await b.close();
  });

  it("says which server it cannot reach", async () => {
    await expect(
      RedisBroadcast.connect({ url: "redis://127.0.0.1:1", connectTimeoutMs: 500 }),
    ).rejects.toThrow(/RedisBroadcast cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
