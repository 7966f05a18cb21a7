import { eventually, sleep } from "@aat/core/testing";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  deleteNamespace,
  describeEndpoint,
  LuaScript,
  Namespace,
  parseRedisUrl,
  RedisKeyValue,
  RedisLock,
} from "../src/index.js";
import { inspector, redisUrl, uniquePrefix } from "./redis-url.js";

const admin = inspector();
const server = describeEndpoint(parseRedisUrl(redisUrl));
const prefixes: string[] = [];

/** A fresh namespace per test; afterAll deletes them all. */
function freshPrefix(label: string): string {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  return prefix;
}

afterAll(async () => {
  for (const prefix of prefixes) await deleteNamespace(admin, prefix);
  await admin.quit();
});

/** The Redis Cluster hash tag of a key: what lies between its first `{` and the next `}`, if not empty. */
function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

async function namespaceKeys(keyPrefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", new Namespace(keyPrefix).pattern, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

describe("RedisKeyValue on a real server", () => {
  let kv: RedisKeyValue;
  let keyPrefix: string;
  let namespace: Namespace;

  beforeEach(async () => {
    keyPrefix = freshPrefix("kv");
    namespace = new Namespace(keyPrefix);
    kv = await RedisKeyValue.connect({ url: redisUrl, keyPrefix });
  });

  afterEach(async () => {
    await kv.close();
  });

  it("puts every key it writes under the hash tag {keyPrefix}, even keys with braces", async () => {
    const lock = await RedisLock.connect({ url: redisUrl, keyPrefix });
    await kv.set("plain", 1);
    await kv.set("{other}tag", 2, { ttlMs: 60_000 });
    await kv.setIfAbsent("runs/{r1}/state", 3);
    await kv.increment("counter");
    const lease = await lock.acquire("{schedule}", { ttlMs: 60_000 });

    const keys = await namespaceKeys(keyPrefix);
    expect(keys).toEqual(
      [
        namespace.value("plain"),
        namespace.value("{other}tag"),
        namespace.value("runs/{r1}/state"),
        namespace.value("counter"),
        namespace.index,
        namespace.expiries,
        namespace.lease("{schedule}"),
        namespace.fence("{schedule}"),
      ].sort(),
    );
    for (const key of keys) expect(hashTagOf(key), key).toBe(keyPrefix);
    await lock.release(lease!);
    await lock.close();
  });

  it("keeps every access inside its namespace: an ACL user limited to {keyPrefix}:* can do everything", async () => {
    const user = `aat-test-user-${keyPrefix.slice(-12)}`;
    const password = `pw-${keyPrefix}`;
    // Key patterns are checked for every command a script runs, so this also covers the Lua scripts.
    // Exactly the commands docs/ports.md lists for an ACL user, nothing more.
    const commands =
      "get mget set del pexpire pttl zadd zrem zrangebylex zrangebyscore time eval evalsha ping info";
    const allowed = commands.split(" ").map((command) => `+${command}`);
    await admin.call(
      "ACL",
      "SETUSER",
      user,
      "on",
      `>${password}`,
      `~${namespace.pattern}`,
      "-@all",
      ...allowed,
    );
    try {
      const limited = await RedisKeyValue.connect({ url: redisUrl, username: user, password, keyPrefix });
      const lock = await RedisLock.connect({ url: redisUrl, username: user, password, keyPrefix });
      try {
        expect(await limited.set("a", { n: 1 }, { ttlMs: 60_000 })).toBe(1);
        expect(await limited.setIfAbsent("b", "x")).toEqual({ ok: true, version: 1 });
        expect(await limited.compareAndSet("a", { n: 2 }, 1)).toEqual({ ok: true, version: 2 });
        expect(await limited.increment("c", 2)).toBe(2);
        expect(await limited.getMany(["a", "b", "missing"])).toEqual([
          { value: { n: 2 }, version: 2 },
          { value: "x", version: 1 },
          undefined,
        ]);
        expect((await limited.list("")).entries.map((entry) => entry.key)).toEqual(["a", "b", "c"]);
        expect(await limited.delete("b", { expectedVersion: 1 })).toBe(true);
        const lease = await lock.acquire("job", { ttlMs: 60_000 });
        expect(await lock.renew(lease!, 60_000)).toBeDefined();
        expect(await lock.release(lease!)).toBe(true);
        // The same user is refused outside the namespace, so the checks above were real.
        const outside = await RedisKeyValue.connect({
          url: redisUrl,
          username: user,
          password,
          keyPrefix: `${keyPrefix}-outside`,
          maxRetriesPerRequest: 0,
        });
        await expect(outside.set("a", 1)).rejects.toThrow(/NOPERM/);
        await outside.close();
      } finally {
        await limited.close();
        await lock.close();
      }
    } finally {
      await admin.call("ACL", "DELUSER", user);
    }
  });

  it("stores a readable <version>|<json> string per key", async () => {
    await kv.set("doc", { title: "héllo" });
    await kv.set("doc", { title: "wörld" });
    expect(await admin.get(namespace.value("doc"))).toBe('2|{"title":"wörld"}');
  });

  it("writes an unlisted key as its value alone: no index or expiry entry, the same PX", async () => {
    const unlisted = { unlisted: true, ttlMs: 60_000 };
    expect(await kv.setIfAbsent("claim/a", { n: 1 }, unlisted)).toEqual({ ok: true, version: 1 });
    expect(await kv.compareAndSet("claim/a", { n: 2 }, 1, unlisted)).toEqual({ ok: true, version: 2 });
    expect(await kv.set("claim/b", "b", unlisted)).toBe(1);
    expect(await kv.increment("claim/c", 1, unlisted)).toBe(1);
    expect(await admin.get(namespace.value("claim/a"))).toBe('2|{"n":2}');
    // An unlisted setIfAbsent is one plain SET NX GET: on an existing key it answers with the current entry.
    expect(await kv.setIfAbsent("claim/a", { n: 9 }, unlisted)).toEqual({
      ok: false,
      current: { value: { n: 2 }, version: 2 },
    });
    await admin.set(namespace.value("claim/bad"), "no header");
    await expect(kv.setIfAbsent("claim/bad", 1, unlisted)).rejects.toThrow(/has no <version>\| header/);
    // An unlisted compareAndSet runs its own one-key script: the same checks and replies.
    await expect(kv.compareAndSet("claim/bad", 1, 1, unlisted)).rejects.toThrow(/has no <version>\| header/);
    expect(await kv.compareAndSet("claim/a", { n: 3 }, 1, unlisted)).toEqual({
      ok: false,
      current: { value: { n: 2 }, version: 2 },
    });
    expect(await kv.compareAndSet("claim/new", { n: 1 }, 1, unlisted)).toEqual({ ok: false });
    expect(await kv.compareAndSet("claim/new", { n: 1 }, 0, { unlisted: true })).toEqual({
      ok: true,
      version: 1,
    });
    expect(await admin.pttl(namespace.value("claim/new"))).toBe(-1);
    expect(await admin.pttl(namespace.value("claim/a"))).toBeGreaterThan(50_000);
    expect(await admin.exists(namespace.index, namespace.expiries)).toBe(0);

    await kv.set("listed", 1, { ttlMs: 60_000 });
    expect(await admin.zrange(namespace.index, "0", "-1")).toEqual(["listed"]);
    expect(await admin.zrange(namespace.expiries, "0", "-1")).toEqual(["listed"]);
  });

  it("setIfAbsentWith writes the key and its companions in one script, or nothing when the key exists", async () => {
    await kv.set("run/active", { old: true });
    const companions = [
      { key: "run/active", value: { runId: "r" } },
      { key: "run/index", value: { at: 1 }, options: { ttlMs: 60_000 } },
      { key: "run/delivery", value: { body: "h" }, options: { ttlMs: 60_000, unlisted: true } },
    ];
    expect(await kv.setIfAbsentWith("run/log/1", { seq: 1 }, undefined, companions)).toEqual({
      ok: true,
      version: 1,
    });
    expect(await kv.get("run/log/1")).toEqual({ value: { seq: 1 }, version: 1 });
    // A companion gets the version a set would give it: one more than before.
    expect(await kv.get("run/active")).toEqual({ value: { runId: "r" }, version: 2 });
    expect(await kv.get("run/index")).toEqual({ value: { at: 1 }, version: 1 });
    expect(await admin.pttl(namespace.value("run/delivery"))).toBeGreaterThan(50_000);
    expect(await admin.zrange(namespace.index, "0", "-1")).toEqual(["run/active", "run/index", "run/log/1"]);
    expect(await admin.zrange(namespace.expiries, "0", "-1")).toEqual(["run/index"]);
    expect((await kv.list("run/")).entries.map((entry) => entry.key)).toEqual([
      "run/active",
      "run/index",
      "run/log/1",
    ]);

    // The key exists: nothing is written and the current entry comes back.
    const again = [{ key: "run/active", value: { runId: "other" } }];
    expect(await kv.setIfAbsentWith("run/log/1", { seq: 2 }, undefined, again)).toEqual({
      ok: false,
      current: { value: { seq: 1 }, version: 1 },
    });
    expect(await kv.get("run/active")).toEqual({ value: { runId: "r" }, version: 2 });
  });

  it("setIfAbsentWith calls made in one event-loop turn go to Redis as one script call, each with its own result", async () => {
    const monitor = await admin.duplicate().monitor();
    const scriptCalls: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === "evalsha" && args.some((arg) => arg.includes(namespace.tag))) {
        scriptCalls.push(args);
      }
    });
    try {
      await kv.set("run-b/log/1", { seq: 1 });
      await admin.set(namespace.value("run-d/damaged"), "no header");
      await sleep(50); // the monitor sees the writes above before counting starts
      scriptCalls.length = 0;
      const results = await Promise.all(
        [
          kv.setIfAbsentWith("run-a/log/1", { a: 1 }, { unlisted: true }, [
            { key: "shared", value: "from a", options: { ttlMs: 60_000 } },
            { key: "run-a/active", value: 1 },
          ]),
          kv.setIfAbsentWith("run-b/log/1", { b: 2 }, undefined, [{ key: "run-b/active", value: 1 }]),
          kv.setIfAbsentWith("run-c/log/1", { c: 3 }, undefined, [{ key: "shared", value: "from c" }]),
          kv.setIfAbsentWith("run-d/log/1", { d: 4 }, undefined, [{ key: "run-d/damaged", value: 1 }]),
          kv.setIfAbsentWith("run-a/log/1", { a: "again" }, undefined, []),
        ].map((call) =>
          call.then(
            (value) => ({ value }),
            (error: Error) => ({ error: error.message }),
          ),
        ),
      );
      expect(results).toEqual([
        { value: { ok: true, version: 1 } },
        { value: { ok: false, current: { value: { seq: 1 }, version: 1 } } },
        { value: { ok: true, version: 1 } },
        { error: expect.stringMatching(/run-d\/damaged .*has no <version>\| header/) },
        // Each call sees what the calls before it in the batch wrote.
        { value: { ok: false, current: { value: { a: 1 }, version: 1 } } },
      ]);
      await eventually(
        "the monitor to report the script call",
        async () => scriptCalls.length || undefined,
        2_000,
      );
      expect(scriptCalls).toHaveLength(1);
      // The batch's writes, as separate calls would have made them: run-b's companion untouched, run-d
      // refused whole, "shared" written by a then c (version 2, no TTL left: c wrote it without one).
      expect(await kv.get("run-b/active")).toBeUndefined();
      expect(await kv.get("run-d/log/1")).toBeUndefined();
      expect(await kv.get("shared")).toEqual({ value: "from c", version: 2 });
      expect(await admin.pttl(namespace.value("shared"))).toBe(-1);
      expect(await admin.zrange(namespace.expiries, "0", "-1")).toEqual([]);
      expect(await admin.zrange(namespace.index, "0", "-1")).toEqual([
        "run-a/active",
        "run-b/log/1",
        "run-c/log/1",
        "shared",
      ]);
      // A call in a later turn is a script call of its own.
      await kv.setIfAbsentWith("run-e/log/1", { e: 5 }, undefined, []);
      await eventually(
        "the monitor to report the second script call",
        async () => (scriptCalls.length === 2 ? true : undefined),
        2_000,
      );
    } finally {
      monitor.disconnect();
    }
  });

  it("setIfAbsentWith writes an item of new keys without TTL with one MSETNX, else takes the checked path", async () => {
    await kv.set("old/active", 0);
    const monitor = await admin.duplicate().monitor();
    const writes: string[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      const command = args[0]?.toLowerCase() ?? "";
      if (["msetnx", "mget", "set", "mset"].includes(command) && args[1]?.includes(namespace.tag)) {
        writes.push(command);
      }
    });
    try {
      await sleep(50);
      const results = await Promise.all([
        kv.setIfAbsentWith("fresh/log", { f: 1 }, { unlisted: true }, [
          { key: "fresh/active", value: 1 },
          { key: "fresh/index", value: { i: 1 } },
        ]),
        kv.setIfAbsentWith("old/log", { o: 1 }, undefined, [{ key: "old/active", value: 1 }]),
      ]);
      expect(results).toEqual([
        { ok: true, version: 1 },
        { ok: true, version: 1 },
      ]);
      await eventually(
        "the monitor to report the writes",
        async () => (writes.length >= 5 ? true : undefined),
        2_000,
      );
      // fresh: one MSETNX; old: its MSETNX wrote nothing (old/active exists), then the companion's
      // version is read, the log key set NX and the companion rewritten at the next version.
      expect(writes).toEqual(["msetnx", "msetnx", "mget", "set", "mset"]);
      expect(await kv.getMany(["fresh/log", "fresh/active", "fresh/index", "old/log", "old/active"])).toEqual(
        [
          { value: { f: 1 }, version: 1 },
          { value: 1, version: 1 },
          { value: { i: 1 }, version: 1 },
          { value: { o: 1 }, version: 1 },
          { value: 1, version: 2 },
        ],
      );
      expect((await kv.list("fresh/")).entries.map((entry) => entry.key)).toEqual([
        "fresh/active",
        "fresh/index",
      ]);
    } finally {
      monitor.disconnect();
    }
  });

  it("setIfAbsentWith splits a turn's calls into script calls of at most 64", async () => {
    const monitor = await admin.duplicate().monitor();
    let scriptCalls = 0;
    monitor.on("monitor", (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === "evalsha" && args.some((arg) => arg.includes(namespace.tag)))
        scriptCalls++;
    });
    try {
      await sleep(50);
      const results = await Promise.all(
        Array.from({ length: 150 }, (_, n) =>
          kv.setIfAbsentWith(`many/${n}/log`, { n }, { unlisted: true }, [
            { key: `many/${n}/active`, value: n },
          ]),
        ),
      );
      expect(results).toEqual(Array(150).fill({ ok: true, version: 1 }));
      expect(
        (await kv.getMany(["many/0/log", "many/149/log", "many/149/active"])).map((e) => e?.value),
      ).toEqual([{ n: 0 }, { n: 149 }, 149]);
      await eventually(
        "the monitor to report three script calls",
        async () => (scriptCalls >= 3 ? true : undefined),
        2_000,
      );
      expect(scriptCalls).toBe(3);
    } finally {
      monitor.disconnect();
    }
  });

  it("setIfAbsentWith refuses a damaged companion or a key named twice, writing nothing", async () => {
    await admin.set(namespace.value("hand/written"), "no header");
    await expect(
      kv.setIfAbsentWith("fresh", 1, undefined, [{ key: "hand/written", value: 2 }]),
    ).rejects.toThrow(/hand\/written .*has no <version>\| header/);
    expect(await kv.get("fresh")).toBeUndefined();
    await expect(
      kv.setIfAbsentWith("fresh", 1, { ttlMs: 1000 }, [{ key: "fresh", value: 2 }]),
    ).rejects.toThrow(/key "fresh" is written twice/);
    expect(await kv.get("fresh")).toBeUndefined();
  });

  it("drops index entries of expired keys when listing", async () => {
    for (let index = 0; index < 5; index++) await kv.set(`short/${index}`, index, { ttlMs: 100 });
    await kv.set("short/stays", "here");
    await eventually(
      "the TTL keys to expire",
      async () => ((await kv.get("short/4")) ? undefined : true),
      5_000,
    );
    // Nothing has touched the index since: Redis expired the values, the index still names them.
    expect(await admin.zcard(namespace.index)).toBe(6);
    expect(await admin.zcard(namespace.expiries)).toBe(5);

    expect((await kv.list("short/")).entries.map((entry) => entry.key)).toEqual(["short/stays"]);
    expect(await admin.zrange(namespace.index, "0", "-1")).toEqual(["short/stays"]);
    expect(await admin.zcard(namespace.expiries)).toBe(0);
  });

  it("purges index entries of expired keys on later writes, without any listing", async () => {
    for (let index = 0; index < 20; index++) await kv.set(`claim/${index}`, index, { ttlMs: 100 });
    await eventually(
      "the claims to expire",
      async () => ((await kv.get("claim/19")) ? undefined : true),
      5_000,
    );
    expect(await admin.zcard(namespace.index)).toBe(20);

    // Each write purges up to 16 due entries.
    await kv.set("other", 1);
    expect(await admin.zcard(namespace.index)).toBe(5);
    await kv.delete("other");
    expect(await admin.zcard(namespace.index)).toBe(0);
    expect(await admin.zcard(namespace.expiries)).toBe(0);
  });

  it("keeps the expiry entry of a key rewritten without TTL out of the purge", async () => {
    await kv.set("k", 1, { ttlMs: 100 });
    await kv.set("k", 2);
    await sleep(150);
    await kv.set("trigger", 1, { ttlMs: 60_000 });
    expect(await kv.get("k")).toEqual({ value: 2, version: 2 });
    expect(await admin.zrange(namespace.index, "0", "-1")).toEqual(["k", "trigger"]);
    expect(await admin.zrange(namespace.expiries, "0", "-1")).toEqual(["trigger"]);
  });

  it("setIfAbsentWith leaves an expired key's old expiry entry to the purge, which keeps the new key", async () => {
    await kv.set("again/main", 1, { ttlMs: 100 });
    await kv.set("again/companion", 1, { ttlMs: 100 });
    await eventually(
      "the TTL keys to expire",
      async () => ((await kv.get("again/companion")) ? undefined : true),
      5_000,
    );
    // Written again without TTL: the script skips the ZREM for keys that did not exist.
    const companions = [{ key: "again/companion", value: 2 }];
    expect(await kv.setIfAbsentWith("again/main", 2, undefined, companions)).toEqual({
      ok: true,
      version: 1,
    });
    // The next write's purge looks at the due entries, finds the keys alive without TTL, drops only those.
    await kv.set("trigger", 1);
    expect(await admin.zrange(namespace.expiries, "0", "-1")).toEqual([]);
    expect((await kv.list("again/")).entries).toEqual([
      { key: "again/companion", value: 2, version: 1 },
      { key: "again/main", value: 2, version: 1 },
    ]);
    expect(await admin.pttl(namespace.value("again/main"))).toBe(-1);
  });

  it("setIfAbsentWith purges due expiry entries on a client's first write, 16 for each write since", async () => {
    for (let index = 0; index < 20; index++) await kv.set(`lease/${index}`, index, { ttlMs: 100 });
    await eventually(
      "the leases to expire",
      async () => ((await kv.get("lease/19")) ? undefined : true),
      5_000,
    );
    expect(await admin.zcard(namespace.expiries)).toBe(20);
    // This client's first setIfAbsentWith may purge (16 entries: one write's share); a listed companion
    // makes the write listed.
    expect(await kv.setIfAbsentWith("run/1", 1, { unlisted: true }, [{ key: "marker/1", value: 1 }])).toEqual(
      {
        ok: true,
        version: 1,
      },
    );
    expect(await admin.zcard(namespace.expiries)).toBe(4);
    // The four left are the latest to expire (the purge takes the earliest due first).
    const index = await admin.zrange(namespace.index, "0", "-1");
    expect(index).toHaveLength(5);
    expect(index).toContain("marker/1");
  });

  it("crosses a long run of expired keys in bounded steps, handing back a cursor", async () => {
    for (let index = 0; index < 40; index++) {
      await kv.set(`gone/${String(index).padStart(2, "0")}`, index, { ttlMs: 100 });
    }
    await kv.set("gone/zz", "live");
    await eventually("the keys to expire", async () => ((await kv.get("gone/39")) ? undefined : true), 5_000);

    // limit 1 lets one call look at 10 index entries: the first pages come back empty with a cursor.
    const first = await kv.list("gone/", { limit: 1 });
    expect(first.entries).toEqual([]);
    expect(first.cursor).toBeDefined();
    const seen: string[] = [];
    let cursor = first.cursor;
    let calls = 1;
    while (cursor !== undefined) {
      const page = await kv.list("gone/", { limit: 1, cursor });
      seen.push(...page.entries.map((entry) => entry.key));
      cursor = page.cursor;
      calls++;
    }
    expect(seen).toEqual(["gone/zz"]);
    expect(calls).toBe(5);
    expect(await admin.zrange(namespace.index, "0", "-1")).toEqual(["gone/zz"]);
  });

  it("sends scripts by SHA and in full only after the server lost them (EVALSHA, NOSCRIPT, EVAL)", async () => {
    await kv.set("warm", 1);
    const before = kv.scriptLoads;
    await admin.script("FLUSH");
    await kv.set("warm", 2);
    expect(kv.scriptLoads).toBe(before + 1);
    await kv.set("warm", 3);
    await kv.set("warm", 4);
    expect(kv.scriptLoads).toBe(before + 1);
    expect(await kv.get("warm")).toEqual({ value: 4, version: 4 });

    const script = new LuaScript("probe", "return ARGV[1] .. KEYS[1]", 1);
    expect(await admin.script("EXISTS", script.sha1)).toEqual([0]);
    expect(await script.run(admin, [namespace.value("x"), "key:"])).toBe(`key:${namespace.value("x")}`);
    expect(script.loads).toBe(1);
    expect(await admin.script("EXISTS", script.sha1)).toEqual([1]);
    expect(await script.run(admin, [namespace.value("y"), "key:"])).toBe(`key:${namespace.value("y")}`);
    expect(script.loads).toBe(1);
  });

  it("adds doubles exactly and writes them back as JSON would", async () => {
    await kv.set("f", 0.1);
    expect(await kv.increment("f", 0.2)).toBe(0.1 + 0.2);
    expect(await admin.get(namespace.value("f"))).toBe(`2|${JSON.stringify(0.1 + 0.2)}`);
    expect(await kv.increment("big", Number.MAX_SAFE_INTEGER - 1)).toBe(Number.MAX_SAFE_INTEGER - 1);
    expect(await kv.increment("big")).toBe(Number.MAX_SAFE_INTEGER);
    expect(await kv.increment("huge", 1e21)).toBe(1e21);
    expect(await kv.increment("half", -0.5)).toBe(-0.5);
    expect(await kv.get("half")).toEqual({ value: -0.5, version: 1 });
    await kv.set("max", Number.MAX_VALUE);
    await expect(kv.increment("max", Number.MAX_VALUE)).rejects.toThrow(/not a finite number/);
    expect(await kv.get("max")).toEqual({ value: Number.MAX_VALUE, version: 1 });
  });

  it("reports a value written behind its back by key name and server", async () => {
    await admin.set(namespace.value("hand-made"), "not packed");
    await expect(kv.get("hand-made")).rejects.toThrow(
      `Redis key ${namespace.value("hand-made")} on ${server} has no <version>| header`,
    );
    await admin.set(namespace.value("bad-json"), "1|{oops");
    await expect(kv.getMany(["bad-json"])).rejects.toThrow(/holds invalid JSON/);
    await expect(kv.set("hand-made", 1)).rejects.toThrow(/hand-made on .* has no <version>\| header/);
  });

  it("refuses keys UTF-8 cannot carry, and cursors from another prefix", async () => {
    await expect(kv.set("\uD800", 1)).rejects.toThrow(/lone UTF-16 surrogate/);
    await expect(kv.get("")).rejects.toThrow(/non-empty string/);
    for (let index = 0; index < 3; index++) await kv.set(`p/${index}`, index);
    const page = await kv.list("p/", { limit: 1 });
    await expect(kv.list("q/", { limit: 1, cursor: page.cursor! })).rejects.toThrow(
      /was not returned by a listing/,
    );
  });

  it("borrows a client without closing it, and keeps namespaces apart", async () => {
    const client = inspector();
    const other = freshPrefix("kv-other");
    const borrowed = new RedisKeyValue({ client, keyPrefix: other });
    await borrowed.set("shared-name", "theirs");
    await kv.set("shared-name", "ours");
    expect((await borrowed.get("shared-name"))?.value).toBe("theirs");
    expect(borrowed.server).toBe(`${server} (client passed as \`client\`)`);
    await borrowed.close();
    await expect(borrowed.get("shared-name")).rejects.toThrow(/RedisKeyValue is closed/);
    expect(await client.ping()).toBe("PONG");
    await client.quit();
  });
});
