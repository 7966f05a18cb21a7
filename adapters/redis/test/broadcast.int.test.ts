import { broadcastContract } from "@aat/core/testing";
import { describe, expect, it } from "vitest";
import { RedisBroadcast } from "../src/index.js";
import { redisUrl } from "./redis-url.js";

broadcastContract("RedisBroadcast on the real server", (namespace) =>
  RedisBroadcast.connect({ url: redisUrl, keyPrefix: namespace }),
);

describe("RedisBroadcast", () => {
  it("says which server it cannot reach", async () => {
    await expect(
      RedisBroadcast.connect({ url: "redis://127.0.0.1:1", connectTimeoutMs: 500 }),
    ).rejects.toThrow(/RedisBroadcast cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
