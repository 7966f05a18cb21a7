/**
 * Not a test: a measurement run behind the figures in docs/ports.md (Redis adapter).
 *   npx tsx adapters/redis/test/measure-latency.ts      (REDIS_URL, default redis://127.0.0.1:6379)
 * Per-call latency of the adapter next to raw commands on the same server in the same run, compare-and-set
 * by Lua against WATCH/MULTI/EXEC, and one packed string per key against a small hash per key.
 * Writes only under a fresh namespace and deletes it at the end.
 */
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { deleteNamespace, LuaScript, Namespace, RedisKeyValue } from "../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-url.js";

const CALLS = Number(process.env.CALLS ?? 5_000);
const WARMUP = 500;

interface Figures {
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

/** Runs `call` sequentially CALLS times after a warm-up; one round trip at a time, as a step would. */
async function measure(call: (index: number) => Promise<unknown>): Promise<Figures> {
  for (let index = 0; index < WARMUP; index++) await call(-index - 1);
  const samples = new Float64Array(CALLS);
  for (let index = 0; index < CALLS; index++) {
    const start = performance.now();
    await call(index);
    samples[index] = (performance.now() - start) * 1000;
  }
  samples.sort();
  const mean = samples.reduce((sum, value) => sum + value, 0) / CALLS;
  return {
    meanUs: Math.round(mean),
    p50Us: Math.round(samples[Math.floor(CALLS * 0.5)]!),
    p99Us: Math.round(samples[Math.floor(CALLS * 0.99)]!),
  };
}

const rows: Array<[string, Figures | string]> = [];
function report(name: string, figures: Figures | string): void {
  rows.push([name, figures]);
  const text =
    typeof figures === "string"
      ? figures
      : `mean ${figures.meanUs} µs  p50 ${figures.p50Us} µs  p99 ${figures.p99Us} µs`;
  console.log(`${name.padEnd(44)} ${text}`);
}

/** CAS with WATCH: needs a connection of its own per concurrent writer, since WATCH is per connection. */
async function watchCompareAndSet(
  client: Redis,
  namespace: Namespace,
  key: string,
  json: string,
  expected: number,
): Promise<boolean> {
  const valueKey = namespace.value(key);
  await client.watch(valueKey);
  const raw = await client.get(valueKey);
  const version = raw === null ? 0 : Number(raw.slice(0, raw.indexOf("|")));
  if (version !== expected) {
    await client.unwatch();
    return false;
  }
  const result = await client
    .multi()
    .set(valueKey, `${version + 1}|${json}`)
    .zadd(namespace.index, 0, key)
    .exec();
  return result !== null;
}

/** The same writes with one hash per key: fields n (version) and v (JSON). */
const HASH_SET = new LuaScript(
  "hash.set",
  `local version = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'v', ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return version`,
  2,
);
const PACKED_SET = new LuaScript(
  "packed.set",
  `local raw = redis.call('GET', KEYS[1])
local version = 1
if raw then version = tonumber(string.sub(raw, 1, string.find(raw, '|', 1, true) - 1)) + 1 end
redis.call('SET', KEYS[1], version .. '|' .. ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return version`,
  2,
);

async function main(): Promise<void> {
  const keyPrefix = uniquePrefix("measure");
  const namespace = new Namespace(keyPrefix);
  const kv = await RedisKeyValue.connect({ url: redisUrl, keyPrefix });
  const raw = new Redis(redisUrl);
  const value = { runId: "r-123", step: "enrich", attempt: 1, status: "claimed" };
  const json = JSON.stringify(value);
  console.log(
    `Redis ${redisUrl.replace(/:[^:@/]*@/, ":***@")}, ${CALLS} sequential calls each, µs per call\n`,
  );

  try {
    report("raw PING", await measure(() => raw.ping()));
    report(
      "raw SET NX PX (new key)",
      await measure((i) => raw.set(`${namespace.tag}:raw:${i}`, json, "PX", 60_000, "NX")),
    );
    report("raw GET", await measure(() => raw.get(`${namespace.tag}:raw:1`)));

    report(
      "kv.setIfAbsent (new key, ttl)",
      await measure((i) => kv.setIfAbsent(`claim/${i}`, value, { ttlMs: 60_000 })),
    );
    report("kv.setIfAbsent (existing key)", await measure(() => kv.setIfAbsent("claim/1", value)));
    report("kv.get", await measure(() => kv.get("claim/1")));
    await kv.set("state", value);
    let version = 1;
    report(
      "kv.compareAndSet (Lua, matching version)",
      await measure(async () => {
        const result = await kv.compareAndSet("state", value, version);
        if (result.ok) version = result.version;
      }),
    );
    report("kv.set", await measure(() => kv.set("plain", value)));
    report("kv.increment", await measure(() => kv.increment("counter")));
    report(
      "kv.getMany (10 keys)",
      await measure(() => kv.getMany(Array.from({ length: 10 }, (_, i) => `claim/${i}`))),
    );
    report("kv.list (page of 100)", await measure(() => kv.list("claim/", { limit: 100 })));

    // Compare-and-set: Lua (above) against WATCH/MULTI/EXEC on a dedicated connection.
    const watcher = new Redis(redisUrl);
    await kv.set("watched", value);
    let watchedVersion = 1;
    report(
      "compareAndSet by WATCH/MULTI/EXEC",
      await measure(async () => {
        if (await watchCompareAndSet(watcher, namespace, "watched", json, watchedVersion)) watchedVersion++;
      }),
    );

    // Contention: 20 writers each add 1 to one counter through a read-CAS loop, 50 times each.
    const contention = async (cas: (writer: number, current: number, next: string) => Promise<boolean>) => {
      await kv.set("contended", { count: 0 });
      let conflicts = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: 20 }, async (_, writer) => {
          for (let done = 0; done < 50; ) {
            const current = (await kv.get<{ count: number }>("contended"))!;
            const next = JSON.stringify({ count: current.value.count + 1 });
            if (await cas(writer, current.version, next)) done++;
            else conflicts++;
          }
        }),
      );
      const elapsed = performance.now() - start;
      const final = await kv.get<{ count: number }>("contended");
      if (final?.value.count !== 1000) throw new Error(`lost updates: ${JSON.stringify(final)}`);
      return `${Math.round((1000 / elapsed) * 1000)} successful CAS/s, ${conflicts} conflicts`;
    };
    report(
      "contended CAS, Lua (20 writers, 1 connection)",
      await contention(
        async (_, current, next) => (await kv.compareAndSet("contended", JSON.parse(next), current)).ok,
      ),
    );
    const watchers = Array.from({ length: 20 }, () => new Redis(redisUrl));
    report(
      "contended CAS, WATCH (20 writers, 20 conns)",
      await contention((writer, current, next) =>
        watchCompareAndSet(watchers[writer]!, namespace, "contended", next, current),
      ),
    );

    // Layout: one packed string per key against a hash with version and value fields.
    const packedKey = `${namespace.tag}:layout:packed`;
    const hashKey = `${namespace.tag}:layout:hash`;
    const layoutIndex = `${namespace.tag}:layout:index`;
    report(
      "layout: packed string, write (Lua)",
      await measure(() => PACKED_SET.run(raw, [packedKey, layoutIndex, "p", json])),
    );
    report(
      "layout: hash, write (Lua)",
      await measure(() => HASH_SET.run(raw, [hashKey, layoutIndex, "h", json])),
    );
    report("layout: packed string, read (GET)", await measure(() => raw.get(packedKey)));
    report("layout: hash, read (HMGET n v)", await measure(() => raw.hmget(hashKey, "n", "v")));
    const packedBytes = await raw.call("MEMORY", "USAGE", packedKey);
    const hashBytes = await raw.call("MEMORY", "USAGE", hashKey);
    report("layout: memory per key (this value)", `packed ${packedBytes} B, hash ${hashBytes} B`);

    await Promise.all([watcher.quit(), ...watchers.map((client) => client.quit())]);
  } finally {
    await kv.close();
    await deleteNamespace(raw, keyPrefix);
    await raw.quit();
  }
}

await main();
