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
    const waiting = publisher.publish(subject, new TextEncoder().encode("{}"), headers());
    await publisher.close();
    await expect(waiting).rejects.toThrow(/closed before JetStream answered/);
    await other.close();
  });
});
