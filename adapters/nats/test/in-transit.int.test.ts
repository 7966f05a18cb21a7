import { uniqueSuffix } from "@aat/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { NatsQueue } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

interface Body {
  index: number;
}

const opened: NatsQueue<Body>[] = [];
const streams: string[] = [];

afterEach(async () => {
  for (const queue of opened.splice(0)) await queue.close();
  for (const stream of streams.splice(0)) await NatsQueue.destroy({ servers: natsUrl, stream });
});

/** The ack wait: a delivery dropped in transit would come back only after this long. */
const ACK_WAIT_MS = 60_000;
/** Far below the ack wait: whatever arrives within it was handed back, not redelivered after a lapse. */
const COLLECT_BOUND_MS = 20_000;
const ROUNDS = 4;
const MESSAGES = 200;

const connect = (stream: string) =>
  NatsQueue.connect<Body>({ servers: natsUrl, stream, storage: "memory", ackWaitMs: ACK_WAIT_MS }).then(
    (queue) => {
      opened.push(queue);
      return queue;
    },
  );

/**
 * A pull request can end on the client while the server is still sending to it (here: the queue closes
 * under busy receives; in production also a client-side deadline). The server counts those deliveries,
 * so a message dropped there would stay invisible for the whole ack wait. Each round fills a stream,
 * lets one instance pull with several short receives, closes it after a few milliseconds, and requires
 * every message it did not hand out to reach a second instance within a bound far below the ack wait.
 */
describe("NatsQueue deliveries in transit when a pull request ends", () => {
  it("hands back every delivery that arrives after its pull ended, none waits for the ack wait", async () => {
    let inTransit = 0;
    let handedOut = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const stream = `aat-transit-${uniqueSuffix()}`;
      streams.push(stream);
      const survivor = await connect(stream);
      const closing = await connect(stream);
      for (let index = 0; index < MESSAGES; index++) await survivor.publish({ index });

      const seenByClosing = new Set<number>();
      const receivers = Array.from({ length: 4 }, async () => {
        for (;;) {
          const batch = await closing.receive({ maxMessages: 5, waitMs: 50 }).catch(() => undefined);
          if (!batch) return; // closed
          for (const message of batch) seenByClosing.add(message.body.index);
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 2 + round * 2));
      await closing.close();
      await Promise.all(receivers);

      // Handed out by the closing instance and never acked: those do wait for the ack wait, by design.
      const expected = MESSAGES - seenByClosing.size;
      const seen = new Map<number, number>();
      const end = Date.now() + COLLECT_BOUND_MS;
      while (seen.size < expected && Date.now() < end) {
        for (const message of await survivor.receive({ maxMessages: 100, waitMs: 200 })) {
          if (!seen.has(message.body.index)) seen.set(message.body.index, message.deliveryCount);
          await survivor.ack(message);
        }
      }
      const missing = [...Array(MESSAGES).keys()].filter((i) => !seen.has(i) && !seenByClosing.has(i));
      expect(missing, `round ${round}: deliveries lost in transit`).toEqual([]);
      inTransit += [...seen].filter(([i, count]) => count > 1 && !seenByClosing.has(i)).length;
      handedOut += seenByClosing.size;
      await survivor.close();
    }
    console.log(
      `in-transit: rounds=${ROUNDS} messages=${ROUNDS * MESSAGES} handedOutBeforeClose=${handedOut} handedBack=${inTransit}`,
    );
  }, 120_000);
});
