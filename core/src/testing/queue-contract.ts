import { afterEach, describe, expect, it } from "vitest";
import type { Queue, QueueMessage, QueueOptions } from "../ports/queue.js";
import { eventually, sleep, uniqueSuffix } from "./contract-helpers.js";

export type QueueFactory = (
  options: QueueOptions & { name: string },
) => Promise<{ queue: Queue; cleanup?: () => Promise<void> }>;

export interface QueueContractSettings {
  /** Lease the lease-sensitive tests ask for (default 500 ms). Backends with coarse leases raise it. */
  visibilityTimeoutMs?: number;
  /** Delay the publish/nack delay tests use (default 500 ms). */
  delayMs?: number;
  /** How long to keep polling for something that must eventually happen (default 10 s). */
  patienceMs?: number;
  /** How long to listen before concluding that nothing more arrives (default 300 ms). */
  quietMs?: number;
  /** Per-test vitest timeout (default 3 × patienceMs + 10 × visibilityTimeoutMs). */
  testTimeoutMs?: number;
  /** The adapter implements the optional `depth()`: check what it counts. */
  depth?: boolean;
}

interface Body {
  marker: string;
  index?: number;
  [extra: string]: unknown;
}

/**
 * Declares the Queue contract suite. Every test creates its own queue(s) with a unique name
 * (lower-case letters, digits and dashes), closes them when done and then calls `cleanup`
 * (delete the remote queue/topic/stream there).
 */
export function queueContract(
  name: string,
  create: QueueFactory,
  settings: QueueContractSettings = {},
): void {
  const lease = settings.visibilityTimeoutMs ?? 500;
  const delay = settings.delayMs ?? 500;
  const patienceMs = settings.patienceMs ?? 10_000;
  const quietMs = settings.quietMs ?? 300;
  const timeout = settings.testTimeoutMs ?? patienceMs * 3 + lease * 10;
  /** Long enough that no test's messages lapse unless the test wants them to. */
  const longLease = Math.max(30_000, lease * 10);

  describe(`Queue contract: ${name}`, () => {
    const opened: Array<{ queue: Queue; cleanup?: () => Promise<void> }> = [];

    afterEach(async () => {
      for (const { queue, cleanup } of opened.splice(0)) {
        try {
          await queue.close();
        } finally {
          await cleanup?.();
        }
      }
    });

    const open = async (options: QueueOptions = {}): Promise<Queue<Body>> => {
      const made = await create({
        visibilityTimeoutMs: longLease,
        maxDeliveries: 5,
        ...options,
        name: `aat-contract-${uniqueSuffix()}`,
      });
      opened.push(made);
      return made.queue as Queue<Body>;
    };

    /** Receives (without acking) until at least `count` messages arrived. */
    const receiveAtLeast = async (queue: Queue<Body>, count: number, maxMessages = 10) => {
      const messages: Array<QueueMessage<Body>> = [];
      await eventually(
        `${count} message(s) on ${queue.name}`,
        async () => {
          const batch = await queue.receive({ maxMessages, waitMs: Math.min(1000, patienceMs) });
          expect(batch.length).toBeLessThanOrEqual(maxMessages);
          messages.push(...batch);
          return messages.length >= count ? true : undefined;
        },
        patienceMs,
        0,
      );
      return messages;
    };

    /** Everything delivered during `ms` (nothing is acked). */
    const collectFor = async (queue: Queue<Body>, ms: number) => {
      const messages: Array<QueueMessage<Body>> = [];
      const end = Date.now() + ms;
      for (let left = ms; left > 0; left = end - Date.now()) {
        messages.push(...(await queue.receive({ maxMessages: 10, waitMs: left })));
      }
      return messages;
    };

    const findDeadLetter = (queue: Queue<Body>, marker: string, patience: number) =>
      eventually(
        `a dead letter with marker ${marker}`,
        async () =>
          (await queue.listDeadLetters({ limit: 100 })).find((letter) => letter.body.marker === marker),
        patience,
      );

    it(
      "round-trips body and attributes through publish, receive and ack",
      async () => {
        const queue = await open();
        const body: Body = {
          marker: uniqueSuffix(),
          nested: { list: [1, "two", null], flag: true },
          text: "ünï 🌍",
        };
        const attributes = {
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          tenant: "t1",
        };
        const before = Date.now();
        const published = await queue.publish(body, { attributes });
        expect(published.duplicate).toBe(false);
        expect(typeof published.messageId).toBe("string");

        const [message, ...rest] = await receiveAtLeast(queue, 1);
        expect(rest).toEqual([]);
        expect(message!.id).toBe(published.messageId);
        expect(message!.body).toEqual(body);
        expect(message!.attributes).toMatchObject(attributes);
        expect(message!.deliveryCount).toBe(1);
        expect(typeof message!.receipt).toBe("string");
        // Epoch milliseconds, not seconds: within minutes of the publish even with clock skew.
        expect(Math.abs(message!.publishedAt - before)).toBeLessThan(5 * 60_000);

        await queue.ack(message!);
        expect(await collectFor(queue, quietMs)).toEqual([]);
      },
      timeout,
    );

    if (settings.depth) {
      it(
        "depth() counts ready, delayed and leased messages until they are acked or dead-lettered",
        async () => {
          const queue = await open();
          expect(queue.depth).toBeTypeOf("function");
          const marker = uniqueSuffix();
          expect(await queue.depth!()).toBe(0);
          await queue.publish({ marker, index: 1 });
          await queue.publish({ marker, index: 2 });
          await queue.publish({ marker, index: 3 }, { delayMs: longLease });
          expect(await queue.depth!()).toBe(3);
          const [first, second, ...rest] = await receiveAtLeast(queue, 2);
          expect(rest).toEqual([]);
          expect(await queue.depth!()).toBe(3);
          await queue.ack(first!);
          await queue.deadLetter(second!, "contract: depth");
          expect(await queue.depth!()).toBe(1);
        },
        timeout,
      );
    }

    it(
      "delivers every published message without promising an order",
      async () => {
        const queue = await open();
        const marker = uniqueSuffix();
        for (let index = 0; index < 10; index++) await queue.publish({ marker, index });
        const messages = await receiveAtLeast(queue, 10);
        await Promise.all(messages.map((message) => queue.ack(message)));
        const indexes = messages.map((message) => message.body.index ?? -1).sort((a, b) => a - b);
        expect(indexes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      },
      timeout,
    );

    it(
      "delivers messages with the same dedupeId once inside the duplicate window",
      async () => {
        const queue = await open();
        const marker = uniqueSuffix();
        const dedupeId = `run-${marker}/step/1`;
        const first = await queue.publish({ marker, index: 1 }, { dedupeId });
        const second = await queue.publish({ marker, index: 1 }, { dedupeId });
        const other = await queue.publish({ marker, index: 2 }, { dedupeId: `run-${marker}/step/2` });
        expect(first.duplicate).toBe(false);
        expect(other.duplicate).toBe(false);
        // Backends that cannot tell at publish time report false; the single delivery is what counts.
        if (second.duplicate) expect(second.messageId).toBe(first.messageId);

        const messages = await receiveAtLeast(queue, 2);
        await Promise.all(messages.map((message) => queue.ack(message)));
        const late = await collectFor(queue, quietMs);
        const all = [...messages, ...late];
        expect(all.map((message) => message.body.index).sort()).toEqual([1, 2]);
        expect(all.find((message) => message.body.index === 1)?.dedupeId).toBe(dedupeId);
      },
      timeout,
    );

    it(
      "redelivers a message whose lease ran out, with deliveryCount 2",
      async () => {
        const queue = await open({ visibilityTimeoutMs: lease });
        const body = { marker: uniqueSuffix() };
        await queue.publish(body);
        const [first] = await receiveAtLeast(queue, 1);
        expect(first!.deliveryCount).toBe(1);

        const [again] = await receiveAtLeast(queue, 1);
        expect(again!.id).toBe(first!.id);
        expect(again!.body).toEqual(body);
        // At least 2: a networked broker counts a delivery that was lost in transit (e.g. to a pull
        // request that had just ended) as a delivery too; the port promises growth, not exactness.
        expect(again!.deliveryCount).toBeGreaterThanOrEqual(2);
        await queue.ack(again!);
        expect(await collectFor(queue, lease * 2)).toEqual([]);
      },
      timeout,
    );

    it(
      "redelivers a nacked message",
      async () => {
        const queue = await open();
        const body = { marker: uniqueSuffix() };
        await queue.publish(body);
        const [first] = await receiveAtLeast(queue, 1);
        await queue.nack(first!);
        const [again] = await receiveAtLeast(queue, 1);
        expect(again!.id).toBe(first!.id);
        expect(again!.body).toEqual(body);
        expect(again!.deliveryCount).toBeGreaterThanOrEqual(2);
        await queue.ack(again!);
      },
      timeout,
    );

    // Lower bounds only: a delayed message must not show up before its delay. The slack covers
    // millisecond rounding of timers; no upper bound on how late it may come is asserted.
    const slack = Math.min(20, delay / 10);

    it(
      "keeps a message nacked with delayMs invisible for the delay, then redelivers it",
      async () => {
        const queue = await open();
        const body = { marker: uniqueSuffix() };
        await queue.publish(body);
        const [first] = await receiveAtLeast(queue, 1);
        const nackedAt = Date.now();
        await queue.nack(first!, { delayMs: delay });
        const [again] = await receiveAtLeast(queue, 1);
        expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(delay - slack);
        expect(again!.body).toEqual(body);
        expect(again!.deliveryCount).toBeGreaterThanOrEqual(2);
        await queue.ack(again!);
      },
      timeout,
    );

    it(
      "keeps a message published with delayMs invisible for the delay, then delivers it",
      async () => {
        const queue = await open();
        const body = { marker: uniqueSuffix() };
        const publishedAt = Date.now();
        await queue.publish(body, { delayMs: delay });
        const [message] = await receiveAtLeast(queue, 1);
        expect(Date.now() - publishedAt).toBeGreaterThanOrEqual(delay - slack);
        expect(message!.body).toEqual(body);
        expect(message!.deliveryCount).toBe(1);
        await queue.ack(message!);
      },
      timeout,
    );

    it(
      "does not redeliver a message whose lease was extended past its original end",
      async () => {
        const queue = await open({ visibilityTimeoutMs: lease });
        await queue.publish({ marker: uniqueSuffix() });
        const [message] = await receiveAtLeast(queue, 1);
        await queue.extendLease(message!, lease * 6);
        expect(await collectFor(queue, lease * 2)).toEqual([]);
        await queue.ack(message!);
        expect(await collectFor(queue, quietMs)).toEqual([]);
      },
      timeout,
    );

    it(
      "dead-letters a message delivered maxDeliveries times without ack, and stops delivering it",
      async () => {
        const queue = await open({ visibilityTimeoutMs: lease, maxDeliveries: 2 });
        const body = { marker: uniqueSuffix(), payload: "poison" };
        await queue.publish(body, { attributes: { origin: "contract" } });
        const deliveryCounts: number[] = [];
        const letter = await eventually(
          "the message to be dead-lettered",
          async () => {
            const batch = await queue.receive({ maxMessages: 10, waitMs: Math.min(lease, 1000) });
            deliveryCounts.push(...batch.map((message) => message.deliveryCount));
            return (await queue.listDeadLetters()).find((dead) => dead.body.marker === body.marker);
          },
          patienceMs + lease * 4,
          0,
        );
        // Every delivery we saw counted up from the first; none after the dead-lettering. (A delivery lost
        // in transit on a networked broker still counts, so the seen counts may skip one.)
        expect(deliveryCounts.length).toBeGreaterThanOrEqual(1);
        expect(deliveryCounts.length).toBeLessThanOrEqual(2);
        expect(deliveryCounts).toEqual([...deliveryCounts].sort((a, b) => a - b));
        expect(new Set(deliveryCounts).size).toBe(deliveryCounts.length);
        expect(Math.max(...deliveryCounts)).toBeLessThanOrEqual(2);
        expect(letter.reason.trim()).not.toBe("");
        expect(letter.deliveryCount).toBeGreaterThanOrEqual(2);
        expect(letter.body).toEqual(body);
        expect(letter.attributes).toMatchObject({ origin: "contract" });
        expect(typeof letter.deadLetteredAt).toBe("number");
        expect(await collectFor(queue, lease * 2)).toEqual([]);
      },
      timeout,
    );

    it(
      "dead-letters on request with the given reason, and redrives with a fresh delivery count",
      async () => {
        const queue = await open({ visibilityTimeoutMs: lease });
        const body = { marker: uniqueSuffix() };
        await queue.publish(body, { attributes: { origin: "contract" } });
        const [message] = await receiveAtLeast(queue, 1);
        await queue.deadLetter(message!, "input failed validation: field 'ip' is not an address");

        const letter = await findDeadLetter(queue, body.marker, patienceMs);
        expect(letter.reason).toBe("input failed validation: field 'ip' is not an address");
        expect(letter.body).toEqual(body);
        expect(letter.attributes).toMatchObject({ origin: "contract" });
        expect(await collectFor(queue, lease * 2)).toEqual([]);

        await queue.redrive(letter.id);
        const [again] = await receiveAtLeast(queue, 1);
        expect(again!.body).toEqual(body);
        expect(again!.attributes).toMatchObject({ origin: "contract" });
        expect(again!.deliveryCount).toBe(1);
        await queue.ack(again!);
        await eventually(
          "the redriven letter to leave the dead-letter store",
          async () =>
            (await queue.listDeadLetters()).some((dead) => dead.body.marker === body.marker)
              ? undefined
              : true,
          patienceMs,
        );
        expect(await collectFor(queue, lease * 2)).toEqual([]);
      },
      timeout,
    );

    it(
      "returns from a waiting receive as soon as a message arrives",
      async () => {
        const queue = await open();
        expect(await queue.receive({ waitMs: 0 })).toEqual([]);
        const waitMs = 10_000;
        const pending = queue.receive({ waitMs, maxMessages: 10 });
        await sleep(100);
        const body = { marker: uniqueSuffix() };
        await queue.publish(body);
        // Not a speed threshold: a receive that waits out its full waitMs despite a message being there
        // would lose this race by seconds.
        const outcome = await Promise.race([pending, sleep(waitMs / 2).then(() => "still waiting" as const)]);
        expect(outcome).not.toBe("still waiting");
        const messages = outcome === "still waiting" ? [] : outcome;
        expect(messages.map((message) => message.body)).toEqual([body]);
        await queue.ack(messages[0]!);
      },
      timeout,
    );

    it(
      "never returns more than maxMessages in one receive",
      async () => {
        const queue = await open();
        const marker = uniqueSuffix();
        for (let index = 0; index < 5; index++) await queue.publish({ marker, index });
        const messages = await receiveAtLeast(queue, 5, 2);
        expect(messages.map((message) => message.body.index).sort()).toEqual([0, 1, 2, 3, 4]);
        await Promise.all(messages.map((message) => queue.ack(message)));
      },
      timeout,
    );

    it(
      "hands each of 200 messages to exactly one of 4 concurrent consumers that ack promptly",
      async () => {
        const queue = await open();
        const marker = uniqueSuffix();
        for (let start = 0; start < 200; start += 25) {
          await Promise.all(
            Array.from({ length: 25 }, (_, offset) => queue.publish({ marker, index: start + offset })),
          );
        }
        const deliveries = new Map<number, number>();
        let delivered = 0;
        const deadline = Date.now() + patienceMs * 2;
        const consume = async () => {
          while (delivered < 200 && Date.now() < deadline) {
            const batch = await queue.receive({ maxMessages: 10, waitMs: 200 });
            for (const message of batch) {
              delivered++;
              const index = message.body.index ?? -1;
              deliveries.set(index, (deliveries.get(index) ?? 0) + 1);
              await queue.ack(message);
            }
          }
        };
        await Promise.all([consume(), consume(), consume(), consume()]);
        delivered += (await collectFor(queue, quietMs)).length;
        expect(deliveries.size).toBe(200);
        expect([...deliveries.values()].every((count) => count === 1)).toBe(true);
        expect(delivered).toBe(200);
      },
      timeout,
    );

    it(
      "treats a second ack of the same delivery as harmless",
      async () => {
        const queue = await open();
        await queue.publish({ marker: uniqueSuffix() });
        const [message] = await receiveAtLeast(queue, 1);
        await queue.ack(message!);
        await expect(queue.ack(message!)).resolves.toBeUndefined();
        expect(await collectFor(queue, quietMs)).toEqual([]);
      },
      timeout,
    );

    it(
      "answers ping",
      async () => {
        const queue = await open();
        await expect(queue.ping()).resolves.toBeUndefined();
      },
      timeout,
    );
  });
}
