import type { Cluster, Redis } from "ioredis";
import { z } from "zod";
import type { RedisClient } from "./connection-options.js";

/**
 * The namespace every adapter key lives in. Its name becomes the Redis Cluster hash tag `{<prefix>}`,
 * so it must not contain braces: the tag would end early and the keys would scatter across slots.
 */
export const keyPrefixSchema = z
  .string()
  .min(1, "keyPrefix must not be empty")
  .max(256)
  .refine((prefix) => !/[{}]/.test(prefix), {
    message: "keyPrefix must not contain { or }: it becomes the Redis Cluster hash tag {<keyPrefix>}",
  });

export const DEFAULT_KEY_PREFIX = "aat";

/**
 * Redis key names of one namespace. All share the hash tag, so they sit in one cluster slot and one Lua
 * script may touch any of them (the index beside the value, the fence counter beside the lease).
 */
export class Namespace {
  /** `{prefix}`: the Redis Cluster hash tag. */
  readonly tag: string;
  /** Prefix of value keys; the rest is the port's key, unchanged. */
  readonly valuePrefix: string;
  /** Sorted set of every key that may exist (score 0, ordered by bytes), for ordered `list`. */
  readonly index: string;
  /** Sorted set of keys written with a TTL, scored by when they expire, to purge the index. */
  readonly expiries: string;
  readonly leasePrefix: string;
  readonly fencePrefix: string;

  constructor(readonly prefix: string) {
    this.tag = `{${prefix}}`;
    this.valuePrefix = `${this.tag}:v:`;
    this.index = `${this.tag}:index`;
    this.expiries = `${this.tag}:expiries`;
    this.leasePrefix = `${this.tag}:lease:`;
    this.fencePrefix = `${this.tag}:fence:`;
  }

  value(key: string): string {
    return this.valuePrefix + key;
  }

  lease(key: string): string {
    return this.leasePrefix + key;
  }

  fence(key: string): string {
    return this.fencePrefix + key;
  }

  /** SCAN MATCH pattern for every key of the namespace, with glob characters in the prefix escaped. */
  get pattern(): string {
    return `${this.tag.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  }
}

/**
 * Deletes every key of a namespace (values, index, expiry set, leases and fence counters), for test
 * cleanup and decommissioning. On a cluster it scans each master, since SCAN is per node. Returns how
 * many keys were removed. Never run it on a namespace that live processes still use: fence counters
 * would restart and stale lock holders could pass as current ones.
 */
export async function deleteNamespace(client: RedisClient, keyPrefix: string): Promise<number> {
  const namespace = new Namespace(keyPrefixSchema.parse(keyPrefix));
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes("master") : [client as Redis];
  let removed = 0;
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", namespace.pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) removed += await node.unlink(...keys);
    } while (cursor !== "0");
  }
  return removed;
}
