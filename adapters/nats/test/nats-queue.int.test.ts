import { createServer } from "node:net";
import type { QueueMessage } from "@aat/core";
import { eventually, sleep, uniqueSuffix } from "@aat/core/testing";
import { type JetStreamManager, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NatsQueue, type NatsQueueOptions, parseAckSubject } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

interface Body {
  marker: string;
  [extra: string]: unknown;
}

let raw: NatsConnection;
let manager: JetStreamManager;
const streams = new Set<string>();
const opened: NatsQueue[] = [];

beforeAll(async () => {
  raw = await connect({ servers: natsUrl });
  manager = await jetstreamManager(raw);
});

afterEach(async () => {
  for (const queue of opened.splice(0)) await queue.close();
  for (const stream of streams) await NatsQueue.destroy({ servers: natsUrl, stream });
  streams.clear();
});

afterAll(async () => {
  await raw?.close();
});

const newStream = () => {
  const stream = `aat-test-${uniqueSuffix()}`;
  streams.add(stream);
  return stream;
};

const open = async (options: Partial<NatsQueueOptions> & { stream: string }) => {
  const queue = await NatsQueue.connect<Body>({ servers: natsUrl, storage: "memory", ...options });
  opened.push(queue as NatsQueue);
  return queue;
};

/** Everything delivered during `ms`, nothing acked. */
const collectFor = async (queue: NatsQueue<Body>, ms: number) => {
  const messages = [];
  const end = Date.now() + ms;
  for (let left = ms; left > 0; left = end - Date.now()) {
    messages.push(...(await queue.receive({ maxMessages: 10, waitMs: left })));
  }
  return messages;
};

const receiveOne = async (queue: NatsQueue<Body>) =>
  eventually(
    `a message on ${queue.name}`,
    async () => (await queue.receive({ waitMs: 1_000 }))[0],
    10_000,
    0,
  );

describe("NatsQueue provisioning", () => {
  it("is idempotent: a second connect with the same settings shares the stream and the consumer", async () => {
    const stream = newStream();
    const first = await open({ stream, ackWaitMs: 5_000 });
    const second = await open({ stream, ackWaitMs: 5_000 });

    const info = await manager.streams.info(stream);
    expect(info.config.retention).toBe(RetentionPolicy.Workqueue);
    expect(info.config.subjects).toEqual([stream, `${stream}.delayed`, first.topology.exhaustedSubject]);
    const consumers = [];
    for await (const consumer of manager.consumers.list(stream)) consumers.push(consumer.name);
    expect(consumers.sort()).toEqual(["workers", "workers_delayed", "workers_exhausted"]);
    expect((await manager.streams.info(`${stream}_DLQ`)).config.subjects).toEqual([`${stream}.dead-letters`]);

    const { messageId } = await first.publish({ marker: "shared" });
    const message = await receiveOne(second);
    expect(message.id).toBe(messageId);
    // A receipt works from any connection: the first instance acks what the second received.
    await first.ack(message);
    expect(await collectFor(second, 300)).toEqual([]);
  });

  it("updates what JetStream can change on an existing consumer and stream", async () => {
    const stream = newStream();
    await open({ stream, ackWaitMs: 5_000, maxDeliver: 3, duplicateWindowMs: 60_000 });
    await open({ stream, ackWaitMs: 7_000, maxDeliver: 4, duplicateWindowMs: 30_000 });
    const consumer = await manager.consumers.info(stream, "workers");
    expect(consumer.config.ack_wait).toBe(7_000 * 1e6);
    expect(consumer.config.max_deliver).toBe(4);
    expect((await manager.streams.info(stream)).config.duplicate_window).toBe(30_000 * 1e6);
  });

  it("refuses a stream it cannot change, saying which setting and how to get out of it", async () => {
    const stream = newStream();
    await manager.streams.add({
      name: stream,
      subjects: [`${stream}.other`],
      retention: RetentionPolicy.Limits,
    });
    await expect(open({ stream })).rejects.toThrow(
      new RegExp(
        `stream ${stream} exists with retention "limits" but this queue needs "workqueue".*nats stream rm ${stream}`,
      ),
    );
  });

  it("fails with the server named when nothing listens there", async () => {
    const port = await freePort();
    const servers = `nats://127.0.0.1:${port}`;
    await expect(
      NatsQueue.connect({ servers, stream: "AAT_NOWHERE", connectTimeoutMs: 2_000 }),
    ).rejects.toThrow(new RegExp(`cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: .*refused`));
  });

  it("masks a password in the server named by a connection error", async () => {
    const port = await freePort();
    const failure = NatsQueue.connect({
      servers: `nats://aat:secret@127.0.0.1:${port}`,
      stream: "AAT_NOWHERE",
    });
    await expect(failure).rejects.toThrow(`nats://aat:***@127.0.0.1:${port}`);
    await expect(failure).rejects.not.toThrow(/secret/);
  });
});

describe("NatsQueue messages", () => {
  it("suppresses a Nats-Msg-Id duplicate inside the window and accepts it again after the window", async () => {
    const stream = newStream();
    const queue = await open({ stream, duplicateWindowMs: 1_000 });
    const first = await queue.publish({ marker: "one" }, { dedupeId: "run-1/step/1" });
    const again = await queue.publish({ marker: "one" }, { dedupeId: "run-1/step/1" });
    expect(again).toEqual({ messageId: first.messageId, duplicate: true });

    const stored = await manager.streams.getMessage(stream, { seq: Number(first.messageId) });
    expect(stored?.header.get("Nats-Msg-Id")).toBe("run-1/step/1");
    const message = await receiveOne(queue);
    expect(message.dedupeId).toBe("run-1/step/1");
    await queue.ack(message);
    expect(await collectFor(queue, 300)).toEqual([]);

    await sleep(1_500);
    const later = await queue.publish({ marker: "one" }, { dedupeId: "run-1/step/1" });
    expect(later.duplicate).toBe(false);
    expect(later.messageId).not.toBe(first.messageId);
  });

  it("reports its depth: ready, delayed and leased messages count until acked", async () => {
    const stream = newStream();
    const queue = await open({ stream });
    expect(await queue.depth()).toBe(0);
    await queue.publish({ marker: "ready-1" });
    await queue.publish({ marker: "ready-2" });
    await queue.publish({ marker: "later" }, { delayMs: 60_000 });
    await eventually(
      "three messages counted",
      async () => ((await queue.depth()) === 3 ? true : undefined),
      5_000,
    );
    const leased = await receiveOne(queue);
    expect(await queue.depth()).toBe(3);
    await queue.ack(leased);
    await eventually(
      "the acked message no longer counted",
      async () => ((await queue.depth()) === 2 ? true : undefined),
      5_000,
    );
  });

  it("keeps a message from redelivery while its holder sends working indicators, then lets it lapse", async () => {
    const stream = newStream();
    const holder = await open({ stream, ackWaitMs: 2_000 });
    const other = await open({ stream, ackWaitMs: 2_000 });
    await holder.publish({ marker: "long step" });
    const message = await receiveOne(holder);

    // A step three ack waits long, heartbeating every quarter ack wait.
    const heartbeats = (async () => {
      for (let beat = 0; beat < 12; beat++) {
        await sleep(500);
        await holder.extendLease(message, 500);
      }
    })();
    const stolen = await collectFor(other, 6_000);
    await heartbeats;
    expect(stolen).toEqual([]);

    // No more heartbeats: the lease lapses and another worker gets it.
    const again = await receiveOne(other);
    expect(again.id).toBe(message.id);
    expect(again.deliveryCount).toBe(2);
    await other.ack(again);
  });

  it("keeps the id, dedupeId, attributes and first publish time of a delayed message", async () => {
    const stream = newStream();
    const queue = await open({ stream });
    const published = await queue.publish(
      { marker: "later" },
      { delayMs: 300, dedupeId: "run-2/step/1", attributes: { traceparent: "00-abc-def-01" } },
    );
    const returnedAt = Date.now();
    // Dedupe covers delayed and immediate publishes alike: they share the stream.
    expect(await queue.publish({ marker: "later" }, { dedupeId: "run-2/step/1" })).toEqual({
      messageId: published.messageId,
      duplicate: true,
    });
    const message = await receiveOne(queue);
    expect(message.id).toBe(published.messageId);
    expect(message.dedupeId).toBe("run-2/step/1");
    expect(message.attributes).toEqual({ traceparent: "00-abc-def-01" });
    expect(message.deliveryCount).toBe(1);
    expect(message.publishedAt).toBeLessThanOrEqual(returnedAt);
    await queue.ack(message);
    expect(await collectFor(queue, 300)).toEqual([]);
  });

  it("ends a waiting receive with [] when the queue is closed", async () => {
    const queue = await open({ stream: newStream() });
    const waiting = queue.receive({ waitMs: 30_000 });
    await sleep(100);
    await queue.close();
    expect(await waiting).toEqual([]);
    await expect(queue.receive()).rejects.toThrow(/the queue is closed/);
  });

  it("refuses a receipt from another queue", async () => {
    const one = await open({ stream: newStream() });
    const two = await open({ stream: newStream() });
    await one.publish({ marker: "mine" });
    const message = await receiveOne(one);
    await expect(two.ack(message)).rejects.toThrow(/pass a message returned by receive\(\) of this queue/);
    await one.ack(message);
  });
});

describe("NatsQueue dead letters", () => {
  it("moves a message that ran out of deliveries to <stream>_DLQ with its original body, headers and reason", async () => {
    const stream = newStream();
    const queue = await open({ stream, ackWaitMs: 500, maxDeliver: 1 });
    const body = { marker: "poison", nested: { list: [1, "two"] }, text: "ünï" };
    const published = await queue.publish(body, {
      dedupeId: "run-3/step/1",
      attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    const original = await manager.streams.getMessage(stream, { seq: Number(published.messageId) });
    const message = await receiveOne(queue);
    expect(message.deliveryCount).toBe(1);
    // Not acked: the ack wait runs out, and when workers next pull, the server gives up on it
    // (max_deliver 1) instead of delivering it again and says so in an advisory.
    const [letter] = await eventually(
      "the dead letter",
      async () => {
        expect(await queue.receive({ waitMs: 200 })).toEqual([]);
        const letters = await queue.listDeadLetters();
        return letters.length > 0 ? letters : undefined;
      },
      10_000,
      0,
    );
    expect(letter!.body).toEqual(body);
    expect(letter!.reason).toBe("not acknowledged after 1 deliveries (maxDeliver 1)");
    expect(letter!.deliveryCount).toBe(1);
    expect(letter!.dedupeId).toBe("run-3/step/1");
    expect(letter!.attributes).toEqual({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });

    // The stored dead letter is the original bytes and headers, plus the reason in a header.
    const stored = await manager.streams.getMessage(`${stream}_DLQ`, { seq: Number(letter!.id) });
    expect(Buffer.from(stored!.data).equals(Buffer.from(original!.data))).toBe(true);
    expect(stored!.header.get("traceparent")).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    expect(stored!.header.get("Aat-Message-Id")).toBe(published.messageId);
    expect(JSON.parse(stored!.header.get("Aat-Dead-Reason"))).toBe(letter!.reason);

    // Gone from the queue's stream: nothing is redelivered and the work queue holds nothing.
    expect(await collectFor(queue, 1_200)).toEqual([]);
    await eventually(
      "the queue stream to be empty",
      async () => ((await manager.streams.info(stream)).state.messages === 0 ? true : undefined),
      5_000,
    );
  });

  it("dead-letters a message nacked on its last delivery", async () => {
    const stream = newStream();
    const queue = await open({ stream, maxDeliver: 2 });
    await queue.publish({ marker: "fails twice" });
    await queue.nack(await receiveOne(queue));
    const second = await receiveOne(queue);
    expect(second.deliveryCount).toBe(2);
    await queue.nack(second);
    const letter = await eventually(
      "the dead letter",
      async () => {
        expect(await queue.receive({ waitMs: 200 })).toEqual([]);
        return (await queue.listDeadLetters())[0];
      },
      10_000,
      0,
    );
    expect(letter.reason).toBe("not acknowledged after 2 deliveries (maxDeliver 2)");
    expect(letter.body).toEqual({ marker: "fails twice" });
  });

  it("keeps a multi-line reason intact and redrives with the same id, dedupeId and attributes", async () => {
    const stream = newStream();
    const queue = await open({ stream });
    const published = await queue.publish(
      { marker: "bad input" },
      { dedupeId: "run-4/step/2", attributes: { tenant: "t1" } },
    );
    const reason = "tool failed:\n  TypeError: ip is not an address\n  at check (tool.ts:3) ";
    await queue.deadLetter(await receiveOne(queue), reason);
    const [letter] = await queue.listDeadLetters();
    expect(letter!.reason).toBe(reason);

    await queue.redrive(letter!.id);
    expect(await queue.listDeadLetters()).toEqual([]);
    const again = await receiveOne(queue);
    expect(again.id).toBe(published.messageId);
    expect(again.dedupeId).toBe("run-4/step/2");
    expect(again.attributes).toEqual({ tenant: "t1" });
    expect(again.deliveryCount).toBe(1);
    await queue.ack(again);

    await expect(queue.redrive(letter!.id)).rejects.toThrow(/no dead letter with id "\d+" in .*_DLQ/);
    await expect(queue.redrive("abc")).rejects.toThrow(/"abc" is not a dead letter id/);
  });

  it("dead-letters a message whose body is not JSON instead of handing it out", async () => {
    const stream = newStream();
    const queue = await open({ stream });
    const foreign = headers();
    foreign.set("origin", "legacy-producer");
    await jetstream(raw).publish(stream, "not json at all", { headers: foreign });
    expect(await collectFor(queue, 500)).toEqual([]);
    const [letter] = await queue.listDeadLetters();
    expect(letter!.reason).toMatch(/^the body is not JSON/);
    expect(letter!.body).toBe("not json at all");
    expect(letter!.attributes).toEqual({ origin: "legacy-producer" });
  });
});

/**
 * nats-server 2.9.x (before nats-io/nats-server#5305 and #5338) could lose a redelivery to a pull request
 * that expired the moment it was sent, and then send the same message again as new: delivery count 1, a
 * new consumer sequence (seen in CI: the contract's dead-letter case got counts [1, 1]). That race cannot
 * be forced on a real server, and the server drops a client's message whose reply subject is a
 * `$JS.ACK` one, so these tests hand such a copy (the stored message, the reply subject the server would
 * give it) to the queue's pull inbox callback, where the server's deliveries arrive.
 */
describe("NatsQueue when the server sends a message again without counting the delivery", () => {
  /** The receipt with another consumer sequence and delivery count, as the server would send it again. */
  const sentAgain = (receipt: string, consumerSequence: number, deliveryCount: number) => {
    const tokens = receipt.split(".");
    expect(tokens).toHaveLength(9);
    tokens[4] = String(deliveryCount);
    tokens[6] = String(consumerSequence);
    return tokens.join(".");
  };
  /** Hands a copy to the queue's pull inbox, then publishes `next` and returns all received until it. */
  const copyThenCollect = async (queue: NatsQueue<Body>, reply: string, next: Body) => {
    const sequence = parseAckSubject(reply)!.streamSequence;
    const stored = await manager.streams.getMessage(queue.name, { seq: sequence });
    const puller = (queue as unknown as { puller: { route(error: null, message: unknown): void } }).puller;
    expect(typeof puller.route).toBe("function");
    puller.route(null, { subject: stored!.subject, reply, data: stored!.data, headers: stored!.header });
    await queue.publish(next);
    const received: Array<QueueMessage<Body>> = [];
    await eventually(
      `${next.marker} after the copy`,
      async () => {
        received.push(...(await queue.receive({ maxMessages: 10, waitMs: 500 })));
        return received.some((message) => message.body.marker === next.marker) ? true : undefined;
      },
      10_000,
      0,
    );
    return received.filter((message) => message.body.marker !== next.marker);
  };

  it("does not hand out a copy of a held message, and counts a copy after it was handed back as the next delivery", async () => {
    const stream = newStream();
    const problems: string[] = [];
    const queue = await open({ stream, ackWaitMs: 30_000, onError: (error) => problems.push(error.message) });
    const body = { marker: "sent again" };
    await queue.publish(body);
    const first = await receiveOne(queue);
    expect(first.deliveryCount).toBe(1);

    // Held (its lease runs): a copy with count 1 under the next consumer sequence is not handed out.
    const whileHeld = await copyThenCollect(queue, sentAgain(first.receipt, 2, 1), {
      marker: "next-1",
    });
    expect(whileHeld).toEqual([]);
    expect(problems.join("\n")).toMatch(
      /came again \(consumer sequence 2, delivery count 1\) while delivery 1 is held/,
    );

    // Handed back (nack with a long delay, so the server itself does not deliver it during the test):
    // the next copy is the second delivery, whatever count it carries, and dead-letters as such.
    await queue.nack(first, { delayMs: 60_000 });
    const afterNack = await copyThenCollect(queue, sentAgain(first.receipt, 3, 1), {
      marker: "next-2",
    });
    expect(afterNack.map((message) => [message.body, message.deliveryCount])).toEqual([[body, 2]]);
    await queue.deadLetter(afterNack[0]!, "poison");
    const [letter] = await queue.listDeadLetters();
    expect(letter!.body).toEqual(body);
    expect(letter!.deliveryCount).toBe(2);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
