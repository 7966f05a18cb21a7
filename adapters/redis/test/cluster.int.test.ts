import { execFileSync } from "node:child_process";
import { eventually, keyValueContract, lockContract, uniqueSuffix } from "@aat/core/testing";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteNamespace, Namespace, RedisKeyValue, RedisLock } from "../src/index.js";
import { freePort, PrivateRedis } from "./private-redis.js";

// A three-master Redis Cluster of our own on loopback: the hash tag {keyPrefix} must keep each namespace
// in one slot, so every multi-key script and MGET runs, whichever node owns the slot.
PrivateRedis.requireBinaries("redis-server", "redis-cli");
const servers = new PrivateRedis();
const ports: number[] = [];
let cluster: Cluster;

beforeAll(async () => {
  for (let node = 0; node < 3; node++) {
    const port = await freePort();
    const busPort = await freePort();
    ports.push(port);
    await servers.start(port, [
      "--cluster-enabled",
      "yes",
      "--cluster-port",
      String(busPort),
      "--cluster-config-file",
      `${servers.dir}/nodes-${port}.conf`,
      "--cluster-node-timeout",
      "5000",
    ]);
  }
  execFileSync(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    { stdio: "ignore" },
  );
  for (const port of ports) {
    const node = new Redis({ port, host: "127.0.0.1" });
    await eventually(
      `cluster node ${port} to report cluster_state:ok`,
      async () => ((await node.cluster("INFO")).includes("cluster_state:ok") ? true : undefined),
      20_000,
      100,
    );
    await node.quit();
  }
  cluster = new Cluster([{ host: "127.0.0.1", port: ports[0]! }]);
}, 60_000);

afterAll(async () => {
  await cluster?.quit();
  await servers.stop();
});

// A fresh namespace per test, so over the run the namespaces land on different masters.
keyValueContract("RedisKeyValue on a 3-master Redis Cluster", async () => {
  const keyPrefix = `cluster-${uniqueSuffix()}`;
  return {
    kv: new RedisKeyValue({ client: cluster, keyPrefix }),
    cleanup: async () => {
      await deleteNamespace(cluster, keyPrefix);
    },
  };
});

lockContract("RedisLock on a 3-master Redis Cluster", async () => {
  const keyPrefix = `cluster-${uniqueSuffix()}`;
  return {
    lock: new RedisLock({ client: cluster, keyPrefix }),
    cleanup: async () => {
      await deleteNamespace(cluster, keyPrefix);
    },
  };
});

describe("namespaces on a cluster", () => {
  it("work on every master, and deleteNamespace finds each one's keys", async () => {
    // Pick one namespace per master: the hash tag alone decides where a namespace lives.
    const ranges = await cluster.cluster("SLOTS");
    const byMaster = new Map<number, string>();
    for (let attempt = 0; attempt < 500 && byMaster.size < ports.length; attempt++) {
      const keyPrefix = `spread-${uniqueSuffix()}`;
      const slot = Number(await cluster.cluster("KEYSLOT", `{${keyPrefix}}`));
      const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
      if (master === undefined) throw new Error(`no master owns slot ${slot}`);
      if (!byMaster.has(master)) byMaster.set(master, keyPrefix);
    }
    expect([...byMaster.keys()].sort()).toEqual([...ports].sort());

    for (const [master, keyPrefix] of byMaster) {
      const kv = new RedisKeyValue({ client: cluster, keyPrefix });
      await kv.set("a", master);
      await kv.set("b", 2, { ttlMs: 60_000 });
      expect(await kv.getMany(["a", "b"])).toEqual([
        { value: master, version: 1 },
        { value: 2, version: 1 },
      ]);
      expect((await kv.list("")).entries.map((entry) => entry.key)).toEqual(["a", "b"]);
      const node = new Redis({ host: "127.0.0.1", port: master });
      expect(await node.exists(new Namespace(keyPrefix).value("a"))).toBe(1);
      await node.quit();
      // Values a and b, the index and the expiry set.
      expect(await deleteNamespace(cluster, keyPrefix)).toBe(4);
      await kv.close();
    }
  });
});
