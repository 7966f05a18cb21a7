import { ManualClock } from "@aat/core";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { describeEndpoint, parseRedisUrl, RedisKeyValue, RedisLock, resolveEndpoint } from "../src/index.js";
import { freePort as closedPort } from "./private-redis.js";

describe("Redis URLs", () => {
  it("reads host, port, database and percent-encoded credentials", () => {
    expect(parseRedisUrl("redis://app:p%40ss%3Aword@cache.internal:6380/3")).toEqual({
      host: "cache.internal",
      port: 6380,
      db: 3,
      username: "app",
      password: "p@ss:word",
      tls: false,
    });
    expect(parseRedisUrl("redis://127.0.0.1")).toEqual({
      host: "127.0.0.1",
      port: 6379,
      db: 0,
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisUrl("redis://:only-password@[::1]:7000").host).toBe("::1");
    expect(parseRedisUrl("redis://:only-password@[::1]:7000").username).toBeUndefined();
  });

  it("turns TLS on for rediss://", () => {
    expect(parseRedisUrl("rediss://cache:6380").tls).toBe(true);
    expect(resolveEndpoint({ url: "rediss://cache:6380" }).clientOptions.tls).toEqual({});
    expect(resolveEndpoint({ url: "redis://cache:6380" }).clientOptions.tls).toBeUndefined();
  });

  it("refuses what it cannot honour, without repeating the URL (it may hold a password)", () => {
    const secret = "hunter2";
    const attempts: Array<[string, RegExp]> = [
      [`http://u:${secret}@host`, /use redis:\/\/ \(plain\) or rediss:\/\/ \(TLS\)/],
      [`redis://u:${secret}@host/zero`, /not a database number/],
      [`redis://u:${secret}@host:6379?db=2`, /query string/],
      [`redis//u:${secret}@host`, /not a valid URL/],
    ];
    for (const [url, reason] of attempts) {
      expect(() => parseRedisUrl(url)).toThrow(reason);
      try {
        parseRedisUrl(url);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });

  it("masks the password when describing a server", () => {
    expect(describeEndpoint(parseRedisUrl("rediss://app:secret@cache:6380/2"))).toBe(
      "rediss://app:***@cache:6380/2",
    );
    expect(describeEndpoint(parseRedisUrl("redis://:secret@[::1]:6379"))).toBe("redis://:***@[::1]:6379");
    expect(describeEndpoint(parseRedisUrl("redis://cache"))).toBe("redis://cache:6379");
  });
});

describe("connection options", () => {
  it("lets explicit username, password, database and TLS options override the URL", () => {
    const { endpoint, clientOptions } = resolveEndpoint({
      url: "redis://old:old@cache:6379/1",
      username: "new",
      password: "fresh",
      db: 4,
      tls: { ca: "-----BEGIN CERTIFICATE-----", servername: "cache.example", rejectUnauthorized: true },
      connectTimeoutMs: 1_500,
      maxRetriesPerRequest: 0,
      commandTimeoutMs: 2_500,
    });
    expect(endpoint).toEqual({
      host: "cache",
      port: 6379,
      db: 4,
      username: "new",
      password: "fresh",
      tls: true,
    });
    expect(clientOptions).toMatchObject({
      host: "cache",
      port: 6379,
      db: 4,
      username: "new",
      password: "fresh",
      tls: { ca: "-----BEGIN CERTIFICATE-----", servername: "cache.example", rejectUnauthorized: true },
      connectTimeout: 1_500,
      maxRetriesPerRequest: 0,
      commandTimeout: 2_500,
      lazyConnect: true,
    });
    // Without options an outage surfaces within seconds instead of hanging commands for a minute.
    expect(resolveEndpoint({ url: "redis://cache" }).clientOptions).toMatchObject({
      connectTimeout: 5_000,
      maxRetriesPerRequest: 3,
      commandTimeout: 5_000,
    });
    expect(describeEndpoint(endpoint)).toBe("rediss://new:***@cache:6379/4");
  });

  it("refuses tls: false with a rediss:// URL", () => {
    expect(() => resolveEndpoint({ url: "rediss://cache", tls: false })).toThrow(
      /contradicts the rediss:\/\/ url/,
    );
  });

  it("names each bad option of RedisKeyValue", () => {
    const bad: Array<[unknown, RegExp]> = [
      [{}, /give either url .* or client/],
      [{ url: "redis://x", client: new Redis({ lazyConnect: true }) }, /give url or client, not both/],
      [
        { client: new Redis({ lazyConnect: true }), password: "p" },
        /password configures a connection the adapter opens/,
      ],
      [{ url: "redis://x", keyPrefix: "a{b}" }, /must not contain \{ or \}/],
      [{ url: "redis://x", keyPrefix: "" }, /keyPrefix must not be empty/],
      [
        { url: "redis://x", clock: new ManualClock() },
        /takes no clock: Redis expires keys on the server's own clock/,
      ],
      [{ url: "redis://x", maxListLimit: 5_000 }, /maxListLimit/],
      [{ url: "redis://x", tls: { ca: 5 } }, /tls/],
      [{ url: "redis://x", ttl: 5 }, /Unrecognized key: "ttl"/],
    ];
    for (const [options, reason] of bad) {
      expect(
        () => new RedisKeyValue(options as never),
        JSON.stringify(Object.keys(options as object)),
      ).toThrow(reason);
    }
  });

  it("names each bad option of RedisLock", () => {
    expect(() => new RedisLock({ url: "redis://x", clock: {} as never })).toThrow(/clock must be an object/);
    expect(() => new RedisLock({ url: "redis://x", holder: "" })).toThrow(/holder/);
    expect(() => new RedisLock({} as never)).toThrow(/RedisLock options are invalid/);
  });
});

describe("connection failures", () => {
  it("name the server without its password", async () => {
    const port = await closedPort();
    const url = `redis://app:very-secret@127.0.0.1:${port}/2`;
    const attempt = RedisKeyValue.connect({ url, keyPrefix: "unreachable", connectTimeoutMs: 2_000 });
    await expect(attempt).rejects.toThrow(
      `RedisKeyValue cannot reach Redis at redis://app:***@127.0.0.1:${port}/2: connect ECONNREFUSED`,
    );
    await attempt.catch((error: Error) => {
      expect(error.message).not.toContain("very-secret");
      expect(error.message).toMatch(/Check that the server runs/);
    });
  });

  it("name the server for a command that fails later, without its password", async () => {
    const port = await closedPort();
    const lock = new RedisLock({ url: `redis://:very-secret@127.0.0.1:${port}`, maxRetriesPerRequest: 0 });
    const attempt = lock.acquire("job", { ttlMs: 1_000 });
    await expect(attempt).rejects.toThrow(`RedisLock.acquire failed on redis://:***@127.0.0.1:${port}`);
    await attempt.catch((error: Error) => expect(error.message).not.toContain("very-secret"));
    await lock.close();
  });
});
