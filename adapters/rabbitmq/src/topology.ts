import type { Channel } from "amqplib";

/**
 * The broker objects behind one logical queue `name`:
 *
 * - `name`: the work queue (durable, classic). Receivers take messages from it with basic.get.
 * - `name.dead`: the dead-letter queue; the adapter publishes there itself, with the reason in headers.
 * - `name.delay.<k>` for k = levels-1 … 0: a topic exchange and a queue each. Queue k holds messages for
 *   exactly 2^k ms (queue-level TTL, so its messages expire in FIFO order and a long delay never blocks a
 *   short one), then dead-letters them to exchange k-1. A delayed message is published to the top
 *   exchange with a routing key of the delay's bits, most significant first ("0.1.1.0…"); exchange k
 *   sends it into queue k when bit k is 1 and straight on to exchange k-1 when it is 0. After bit 0 it
 *   reaches `name`. The delay is thus the sum of the set bits: the message waits in at most `levels`
 *   queues, without any client involved.
 */
export interface Topology {
  readonly name: string;
  readonly deadLetterQueue: string;
  readonly levels: number;
  /** Longest delay one pass through the delay queues gives. */
  readonly maxDelayMs: number;
  /** Exchange a delayed message is published to. */
  readonly delayEntry: string;
  delayName(level: number): string;
}

export function topologyFor(name: string, levels: number): Topology {
  return {
    name,
    deadLetterQueue: `${name}.dead`,
    levels,
    maxDelayMs: 2 ** levels - 1,
    delayEntry: `${name}.delay.${levels - 1}`,
    delayName: (level) => `${name}.delay.${level}`,
  };
}

/** Routing key spelling `delayMs` (an integer within maxDelayMs) in binary, one word per level. */
export function delayRoutingKey(topology: Topology, delayMs: number): string {
  const words: string[] = [];
  for (let level = topology.levels - 1; level >= 0; level--) {
    words.push(Math.floor(delayMs / 2 ** level) % 2 === 1 ? "1" : "0");
  }
  return words.join(".");
}

/** Idempotent: declaring what exists with the same arguments changes nothing. */
export async function declareTopology(channel: Channel, topology: Topology): Promise<void> {
  const { name, levels } = topology;
  await channel.assertQueue(name, { durable: true });
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
  for (let level = 0; level < levels; level++) {
    await channel.assertExchange(topology.delayName(level), "topic", { durable: true });
  }
  for (let level = levels - 1; level >= 0; level--) {
    const delayQueue = topology.delayName(level);
    await channel.assertQueue(delayQueue, {
      durable: true,
      arguments: {
        "x-message-ttl": 2 ** level,
        ...(level > 0
          ? { "x-dead-letter-exchange": topology.delayName(level - 1) }
          : { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": name }),
      },
    });
    const skip = "*.".repeat(levels - 1 - level);
    await channel.bindQueue(delayQueue, topology.delayName(level), `${skip}1.#`);
    if (level > 0) {
      await channel.bindExchange(topology.delayName(level - 1), topology.delayName(level), `${skip}0.#`);
    } else {
      await channel.bindQueue(name, topology.delayName(0), `${skip}0.#`);
    }
  }
}

/** Deletes every object `declareTopology` creates, with the messages in them; absent ones are skipped. */
export async function deleteTopology(channel: Channel, topology: Topology): Promise<void> {
  await channel.deleteQueue(topology.name);
  await channel.deleteQueue(topology.deadLetterQueue);
  for (let level = 0; level < topology.levels; level++) {
    await channel.deleteQueue(topology.delayName(level));
    await channel.deleteExchange(topology.delayName(level));
  }
}
