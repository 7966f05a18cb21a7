import type { Broadcast } from "@aat/core/ports";
import type { Cluster, Redis } from "ioredis";
import { z } from "zod";
import { RedisConnection } from "./connection.js";
import { checkConnectionChoice, connectionFields, type RedisClient } from "./connection-options.js";
import { DEFAULT_KEY_PREFIX, keyPrefixSchema } from "./namespace.js";
import { parseOptions } from "./options.js";

const optionsSchema = z
  .object({
    ...connectionFields,
    /** Channel namespace (default "aat"); channels are `<keyPrefix>:broadcast:<channel>`. */
    keyPrefix: keyPrefixSchema,
  })
  .partial()
  .strict()
  .superRefine(checkConnectionChoice);

export type RedisBroadcastOptions = z.input<typeof optionsSchema>;

type Listener = (message: string) => void;

/**
 * The Broadcast port on Redis pub/sub: PUBLISH on the adapter's client, SUBSCRIBE on a second connection
 * of its own (a subscribed connection can run nothing else). Nothing is stored.
 */
export class RedisBroadcast implements Broadcast {
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;

  private constructor(
    private readonly connection: RedisConnection,
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
  ) {
    subscriber.on("message", (channel: string, message: string) => {
      for (const listener of [...(this.listeners.get(channel) ?? [])]) {
        try {
          listener(message);
        } catch {
          // A listener's bug must not stop the others.
        }
      }
    });
    // Reconnects are ioredis's; the publisher's connection reports the server's state.
    subscriber.on("error", () => undefined);
  }

  /** Opens the two connections and pings the server, failing with a message that names it. */
  static async connect(options: RedisBroadcastOptions): Promise<RedisBroadcast> {
    const parsed = parseOptions(optionsSchema, options, "RedisBroadcast");
    const connection = new RedisConnection(parsed, "RedisBroadcast");
    await connection.verify();
    const client = connection.client;
    // A Cluster's duplicate is a Cluster (sharded channels aside, PUBLISH reaches every node's subscribers).
    const subscriber: RedisClient = client.isCluster
      ? (client as Cluster).duplicate()
      : (client as Redis).duplicate();
    return new RedisBroadcast(connection, subscriber, `${parsed.keyPrefix ?? DEFAULT_KEY_PREFIX}:broadcast:`);
  }

  publish(channel: string, message: string): void {
    if (this.closed) return;
    // Best effort by contract: a failed PUBLISH loses a message the durable record still holds.
    this.connection.client.publish(this.prefix + channel, message).catch(() => undefined);
  }

  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    this.connection.assertOpen();
    const name = this.prefix + channel;
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
      try {
        await this.subscriber.subscribe(name);
      } catch (error) {
        this.listeners.delete(name);
        throw this.connection.failure("subscribe", error);
      }
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(name);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(name);
      if (!this.closed) this.subscriber.unsubscribe(name).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.subscriber.disconnect();
    await this.connection.close();
  }
}
