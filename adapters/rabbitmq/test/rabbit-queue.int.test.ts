import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { MemoryKeyValue } from "@aat/adapter-memory";
import type { QueueMessage } from "@aat/core";
import { eventually, sleep, uniqueSuffix } from "@aat/core/testing";
import { type ChannelModel, connect } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RabbitQueue } from "../src/index.js";
import { openTestQueue, rabbitUrl } from "./rabbit-env.js";

interface Body {
  marker: string;
}

/** A plain amqplib connection, to look at and tamper with the broker objects behind the adapter. */
let raw: ChannelModel;
beforeAll(async () => {
  raw = await connect(rabbitUrl);
});
afterAll(async () => {
  await raw.close();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(options: Parameters<typeof openTestQueue>[0] = {}) {
  const made = await openTestQueue<Body>(options);
  cleanups.push(made.cleanup);
  return made;
}

/** Messages in `queue` right now, read on a throwaway channel (a 404 there harms nothing). */
async function messageCount(queue: string): Promise<number> {
  const channel = await raw.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

async function receiveOne(queue: RabbitQueue<Body>, patienceMs = 10_000): Promise<QueueMessage<Body>> {
  const [message] = await eventually(
    `a message on ${queue.name}`,
    async () => {
      const batch = await queue.receive({ waitMs: 500 });
      return batch.length > 0 ? batch : undefined;
    },
    patienceMs,
    0,
  );
  return message!;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("RabbitQueue publisher confirms", () => {
  it("has the message in the queue by the time publish resolves", async () => {
    const { queue, name } = await open();
    for (let index = 1; index <= 5; index++) {
      await queue.publish({ marker: `m${index}` });
      expect(await messageCount(name)).toBe(index);
    }
  });

  it("reports its depth: ready and delayed messages, and those leased here, until acked", async () => {
    const { queue } = await open();
    expect(await queue.depth()).toBe(0);
    await queue.publish({ marker: "ready-1" });
    await queue.publish({ marker: "ready-2" });
    await queue.publish({ marker: "later" }, { delayMs: 60_000 });
    expect(await queue.depth()).toBe(3);
    const leased = await receiveOne(queue);
    expect(await queue.depth()).toBe(3);
    await queue.ack(leased);
    expect(await queue.depth()).toBe(2);
  });

  it("rejects a publish the broker could not route because the queue was deleted, and recovers", async () => {
    const { queue, name } = await open();
    const channel = await raw.createChannel();
    await channel.deleteQueue(name);
    await channel.close();

    const failed = queue.publish({ marker: uniqueSuffix() });
    await expect(failed).rejects.toThrow(/could not route message .*its queue is missing/);

    // Declaring again (any replica connecting does) makes the same instance publish again.
    const again = await RabbitQueue.connect({ url: rabbitUrl, name, kv: new MemoryKeyValue() });
    await again.close();
    await queue.publish({ marker: "after" });
    expect((await receiveOne(queue)).body).toEqual({ marker: "after" });
  });

  it("rejects a delayed publish when a delay exchange is gone, naming the broker's reason, then publishes again", async () => {
    const { queue, name } = await open();
    const channel = await raw.createChannel();
    await channel.deleteExchange(`${name}.delay.31`);
    await channel.close();

    await expect(queue.publish({ marker: "late" }, { delayMs: 100 })).rejects.toThrow(
      /did not confirm message .*NOT_FOUND - no exchange/,
    );
    await queue.publish({ marker: "now" });
    expect((await receiveOne(queue)).body).toEqual({ marker: "now" });
  });
});

/** A TCP proxy in front of the broker whose connections the test can cut, like a network failure. */
async function cuttableProxy(): Promise<{ url: string; cut: () => void; close: () => Promise<void> }> {
  const target = new URL(rabbitUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5672), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = new URL(rabbitUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("RabbitQueue channels", () => {
  it("dials again after the connection drops, and counts the delivery that was leased when it did", async () => {
    const { queue: owner, name } = await open();
    const proxy = await cuttableProxy();
    cleanups.push(proxy.close);
    const queue = await RabbitQueue.connect<Body>({ url: proxy.url, name });
    cleanups.push(() => queue.close());
    await owner.publish({ marker: "dropped" });
    const first = await receiveOne(queue);
    expect(first.deliveryCount).toBe(1);

    proxy.cut();
    const again = await eventually(
      "a receive through a new connection",
      async () => {
        const batch = await queue.receive({ waitMs: 200 }).catch(() => []);
        return batch[0];
      },
      10_000,
    );
    expect(again.id).toBe(first.id);
    expect(again.deliveryCount).toBe(2);
    await expect(queue.extendLease(first, 1000)).rejects.toThrow(/no longer leased/);
    await queue.ack(first);
    await queue.ack(again);
    expect(await messageCount(name)).toBe(0);
  });

  it("reports a receive the broker refused and receives again on a new channel once the queue is back", async () => {
    const { queue, name } = await open();
    const channel = await raw.createChannel();
    await channel.deleteQueue(name);
    await channel.close();
    await expect(queue.receive()).rejects.toThrow(/basic.get from .* failed .*NOT_FOUND/);

    const again = await RabbitQueue.connect({ url: rabbitUrl, name });
    await again.close();
    await queue.publish({ marker: "back" });
    const message = await receiveOne(queue);
    expect(message.body).toEqual({ marker: "back" });
    await queue.ack(message);
    expect(await messageCount(name)).toBe(0);
  });
});

describe("RabbitQueue dedupe through the KeyValue store", () => {
  it("suppresses a dedupeId for the window, keeps the claims in the given KeyValue, and forgets it after", async () => {
    const kv = new MemoryKeyValue();
    const { queue, name } = await open({ kv, dedupeWindowMs: 400 });
    const first = await queue.publish({ marker: "a" }, { dedupeId: "run-1/step/1" });
    const second = await queue.publish({ marker: "a" }, { dedupeId: "run-1/step/1" });
    expect(second).toEqual({ messageId: first.messageId, duplicate: true });
    const claims = await kv.list(`rabbitmq/${name}/dedupe/`);
    expect(claims.entries.map((entry) => entry.key)).toEqual([`rabbitmq/${name}/dedupe/claim/run-1/step/1`]);

    await sleep(500);
    const third = await queue.publish({ marker: "a" }, { dedupeId: "run-1/step/1" });
    expect(third.duplicate).toBe(false);
    expect(third.messageId).not.toBe(first.messageId);
    expect(await messageCount(name)).toBe(2);
  });

  it("suppresses duplicates across replicas that share the KeyValue, also when they publish at once", async () => {
    const kv = new MemoryKeyValue();
    const { queue, name } = await open({ kv });
    const replica = await RabbitQueue.connect<Body>({ url: rabbitUrl, name, kv });
    cleanups.push(() => replica.close());

    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        (index % 2 === 0 ? queue : replica).publish({ marker: "x" }, { dedupeId: "shared" }),
      ),
    );
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    expect(new Set(results.map((result) => result.messageId)).size).toBe(1);
    expect(await messageCount(name)).toBe(1);
  });

  it("releases the claim when the publish fails, so a retry goes out", async () => {
    const { queue, name } = await open();
    const channel = await raw.createChannel();
    await channel.deleteQueue(name);
    await channel.close();
    await expect(queue.publish({ marker: "r" }, { dedupeId: "retry-me" })).rejects.toThrow(/could not route/);

    const again = await RabbitQueue.connect({ url: rabbitUrl, name });
    await again.close();
    const retried = await queue.publish({ marker: "r" }, { dedupeId: "retry-me" });
    expect(retried.duplicate).toBe(false);
    expect(await messageCount(name)).toBe(1);
  });

  it("refuses a dedupeId without a KeyValue store, and publishes without dedupe when the window is 0", async () => {
    const name = `aat-test-${uniqueSuffix()}`;
    const queue = await RabbitQueue.connect<Body>({ url: rabbitUrl, name });
    cleanups.push(async () => {
      await queue.close();
      await RabbitQueue.destroy({ url: rabbitUrl, name });
    });
    await expect(queue.publish({ marker: "d" }, { dedupeId: "d1" })).rejects.toThrow(
      /needs a KeyValue store/,
    );

    const unguarded = await RabbitQueue.connect<Body>({ url: rabbitUrl, name, dedupeWindowMs: 0 });
    cleanups.push(() => unguarded.close());
    await unguarded.publish({ marker: "d" }, { dedupeId: "d1" });
    await unguarded.publish({ marker: "d" }, { dedupeId: "d1" });
    expect(await messageCount(name)).toBe(2);
  });
});

describe("RabbitQueue delays", () => {
  it("keeps a message nacked with a delay in the delay queues, not the work queue, then redelivers it", async () => {
    const { queue, name } = await open();
    await queue.publish({ marker: "retry" });
    const first = await receiveOne(queue);
    const nackedAt = Date.now();
    await queue.nack(first, { delayMs: 1500 });

    // 1500 ms = 1024 + 256 + 128 + 64 + 16 + 8 + 4: it waits in level 10 first.
    expect(await messageCount(`${name}.delay.10`)).toBe(1);
    expect(await messageCount(name)).toBe(0);
    expect(await queue.receive({ waitMs: 300 })).toEqual([]);

    const again = await receiveOne(queue);
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(1500 - 20);
    expect(again.id).toBe(first.id);
    expect(again.deliveryCount).toBe(2);
    await queue.ack(again);
  });

  it("sends a delay longer than one pass through the delay queues round again until it is due", async () => {
    // Three levels: one pass delays at most 7 ms, so 300 ms takes many rounds.
    const { queue } = await open({ delayLevels: 3 });
    const publishedAt = Date.now();
    await queue.publish({ marker: "long" }, { delayMs: 300 });
    const message = await receiveOne(queue);
    expect(Date.now() - publishedAt).toBeGreaterThanOrEqual(300 - 20);
    expect(message.body).toEqual({ marker: "long" });
    expect(message.deliveryCount).toBe(1);
    await queue.ack(message);
  });
});

describe("RabbitQueue leases", () => {
  it("redelivers to another replica when a lease lapses, with a higher delivery count", async () => {
    const { queue, name } = await open({ visibilityTimeoutMs: 300 });
    const replica = await RabbitQueue.connect<Body>({ url: rabbitUrl, name, visibilityTimeoutMs: 300 });
    cleanups.push(() => replica.close());
    await queue.publish({ marker: "slow" });

    const first = await receiveOne(queue);
    expect(first.deliveryCount).toBe(1);
    const second = await receiveOne(replica);
    expect(second.id).toBe(first.id);
    expect(second.deliveryCount).toBe(2);

    // The lapsed holder can no longer extend, and its late ack changes nothing.
    await expect(queue.extendLease(first, 1000)).rejects.toThrow(/no longer leased/);
    await queue.ack(first);
    const third = await receiveOne(queue);
    expect(third.deliveryCount).toBe(3);
    await queue.ack(third);
    await replica.ack(second);
    expect(await messageCount(name)).toBe(0);
  });

  it("counts a delivery whose receiver went away without settling it, every time it happens", async () => {
    const { queue, name } = await open();
    await queue.publish({ marker: "crash" });
    for (const expected of [1, 2, 3]) {
      const receiver = await RabbitQueue.connect<Body>({ url: rabbitUrl, name });
      const message = await receiveOne(receiver);
      expect(message.deliveryCount).toBe(expected);
      // Closing without an ack is what a killed worker does: the broker requeues the message.
      await receiver.close();
    }
    const last = await receiveOne(queue);
    expect(last.deliveryCount).toBe(4);
    await queue.ack(last);
  });
});

describe("RabbitQueue dead letters", () => {
  it("keeps the reason in the dead-letter queue's headers and leaves letters there when listing", async () => {
    const { queue, name } = await open();
    await queue.publish({ marker: "bad" }, { attributes: { tenant: "t1" } });
    const message = await receiveOne(queue);
    await queue.deadLetter(message, "field 'ip' is not an address");

    const channel = await raw.createChannel();
    const peeked = await channel.get(`${name}.dead`, { noAck: false });
    expect(peeked).not.toBe(false);
    if (peeked === false) return;
    expect(peeked.properties.messageId).toBe(message.id);
    expect(peeked.properties.headers?.["x-aat-dead-reason"]).toBe("field 'ip' is not an address");
    expect(peeked.properties.headers?.tenant).toBe("t1");
    await channel.close();

    for (let round = 0; round < 2; round++) {
      const letters = await queue.listDeadLetters();
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        id: message.id,
        body: { marker: "bad" },
        attributes: { tenant: "t1" },
        deliveryCount: 1,
        reason: "field 'ip' is not an address",
      });
    }
    expect(await messageCount(`${name}.dead`)).toBe(1);
  });

  it("dead-letters after maxDeliveries with the count in the reason", async () => {
    const { queue } = await open({ maxDeliveries: 2 });
    await queue.publish({ marker: "poison" });
    for (const expected of [1, 2]) {
      const message = await receiveOne(queue);
      expect(message.deliveryCount).toBe(expected);
      await queue.nack(message);
    }
    const [letter] = await queue.listDeadLetters();
    expect(letter?.reason).toBe("not acknowledged after 2 deliveries (maxDeliveries 2)");
    expect(letter?.deliveryCount).toBe(2);
    expect(await queue.receive({ waitMs: 300 })).toEqual([]);
  });

  it("dead-letters a body that is not JSON instead of handing it out, and redrive refuses unknown ids", async () => {
    const { queue, name } = await open();
    const channel = await raw.createConfirmChannel();
    channel.sendToQueue(name, Buffer.from("not json {"), { messageId: "foreign-1" });
    await channel.waitForConfirms();
    await channel.close();

    expect(await queue.receive({ waitMs: 300 })).toEqual([]);
    const [letter] = await queue.listDeadLetters();
    expect(letter).toMatchObject({ id: "foreign-1", body: "not json {" });
    expect(letter?.reason).toMatch(/^body is not JSON/);
    await expect(queue.redrive("no-such-id")).rejects.toThrow(/no dead letter with id "no-such-id"/);
  });
});

describe("RabbitQueue errors", () => {
  it("names the host but not the password when the connection is refused", async () => {
    const port = await closedPort();
    const attempt = RabbitQueue.connect({ url: `amqp://aat:s3cret-pw@127.0.0.1:${port}`, name: "q" });
    const error = await attempt.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    const text = (error as Error).message;
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toContain("ECONNREFUSED");
    expect(text).not.toContain("s3cret-pw");
  });

  it("says the login was refused without echoing the password", async () => {
    const url = new URL(rabbitUrl);
    url.password = "wrong-s3cret";
    const error = await RabbitQueue.connect({ url: url.toString(), name: "q" }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(/ACCESS_REFUSED/);
    expect((error as Error).message).not.toContain("wrong-s3cret");
  });

  it("refuses attributes in the x- namespace the broker and the adapter use", async () => {
    const { queue } = await open();
    await expect(queue.publish({ marker: "a" }, { attributes: { "x-death": "1" } })).rejects.toThrow(
      /attribute "x-death" starts with "x-"/,
    );
  });

  it("refuses to take over a queue declared with other settings, saying what to do", async () => {
    const name = `aat-test-${uniqueSuffix()}`;
    const channel = await raw.createChannel();
    await channel.assertQueue(name, { durable: false });
    await channel.close();
    cleanups.push(async () => {
      const cleaner = await raw.createChannel();
      await cleaner.deleteQueue(name);
      await cleaner.close();
    });
    await expect(RabbitQueue.connect({ url: rabbitUrl, name })).rejects.toThrow(
      /PRECONDITION_FAILED.*already exists with other settings/,
    );
  });
});
