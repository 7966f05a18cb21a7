import { uniqueSuffix } from "@aat/core/testing";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamPublisher } from "../src/publisher.js";
import { natsUrl } from "./nats-server.js";

let connection: NatsConnection;
let manager: JetStreamManager;
const stream = `aat-test-publisher-${uniqueSuffix()}`;
const subject = `${stream}.work`;

beforeAll(async () => {
  connection = await connect({ servers: natsUrl });
  manager = await jetstreamManager(connection);
  await manager.streams.add({ name: stream, subjects: [subject], duplicate_window: 60_000_000_000 });
});

afterAll(async () => {
  await manager?.streams.delete(stream).catch(() => undefined);
  await connection?.close();
});

describe("JetStreamPublisher on a real server", () => {
  it("stores a message and answers with JetStream's sequence; a repeated Nats-Msg-Id is a duplicate", async () => {
    const publisher = new JetStreamPublisher(connection, 5_000);
    const withId = () => {
      const h = headers();
      h.set("Nats-Msg-Id", "same-id");
      return h;
    };
    const first = await publisher.publish(subject, new TextEncoder().encode('{"n":1}'), withId());
    const again = await publisher.publish(subject, new TextEncoder().encode('{"n":1}'), withId());
    expect(first).toEqual({ stream, seq: expect.any(Number), duplicate: false });
    expect(again).toEqual({ stream, seq: first.seq, duplicate: true });
    const stored = await manager.streams.getMessage(stream, { seq: first.seq });
    expect(stored?.json()).toEqual({ n: 1 });
    await publisher.close();
  });

  it("answers many concurrent publishes each with its own sequence", async () => {
    const publisher = new JetStreamPublisher(connection, 5_000);
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        publisher.publish(subject, new TextEncoder().encode(JSON.stringify({ n })), headers()),
      ),
    );
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(50);
    await publisher.close();
  });

  it("hands the publishes of one event-loop turn to the connection together, so they leave in one flush", async () => {
    const other = await connect({ servers: natsUrl });
    const publisher = new JetStreamPublisher(other, 5_000);
    // The connection flushes its buffer at the microtask checkpoint after a publish: publishes made with
    // no checkpoint between them leave in one socket write.
    let checkpoints = 0;
    const seenAt: number[] = [];
    const publish = other.publish.bind(other);
    other.publish = (...args: Parameters<NatsConnection["publish"]>) => {
      seenAt.push(checkpoints);
      queueMicrotask(() => checkpoints++);
      publish(...args);
    };
    const acks = Array.from({ length: 20 }, (_, n) =>
      publisher.publish(subject, new TextEncoder().encode(JSON.stringify({ n })), headers()),
    );
    expect(seenAt).toEqual([]); // nothing is sent during the callers' own turn
    expect(new Set((await Promise.all(acks)).map((ack) => ack.seq)).size).toBe(20);
    expect(seenAt).toEqual(Array(20).fill(seenAt[0]));
    await publisher.close();
    await other.close();
  });

  it("says plainly when no stream takes the subject", async () => {
    const publisher = new JetStreamPublisher(connection, 5_000);
    await expect(
      publisher.publish(`aat-nowhere-${uniqueSuffix()}.work`, new Uint8Array(), headers()),
    ).rejects.toThrow(/no JetStream stream listens on aat-nowhere-.*503 no responders/);
    await publisher.close();
  });

  it("relays JetStream's refusal (a stream that expects another last sequence)", async () => {
    const publisher = new JetStreamPublisher(connection, 5_000);
    const h = headers();
    h.set("Nats-Expected-Last-Sequence", "999999");
    await expect(publisher.publish(subject, new TextEncoder().encode("{}"), h)).rejects.toThrow(
      /JetStream refused the publish to .*: wrong last sequence/,
    );
    await publisher.close();
  });

  it("fails publishes still waiting when it is closed", async () => {
    const other = await connect({ servers: natsUrl });
    const publisher = new JetStreamPublisher(other, 5_000);
    const before = (await manager.streams.info(stream)).state.messages;
    const waiting = publisher.publish(subject, new TextEncoder().encode("{}"), headers());
    await publisher.close();
    await expect(waiting).rejects.toThrow(/closed before JetStream answered/);
    // A publish its caller was told failed is not sent afterwards.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await manager.streams.info(stream)).state.messages).toBe(before);
    await other.close();
  });
});
