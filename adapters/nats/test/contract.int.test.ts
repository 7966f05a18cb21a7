import { queueContract } from "@aat/core/testing";
import { NatsQueue } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

queueContract(
  "NatsQueue on JetStream",
  async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
    const queue = await NatsQueue.connect({
      servers: natsUrl,
      stream: name,
      ackWaitMs: visibilityTimeoutMs,
      maxDeliver: maxDeliveries,
      storage: "memory",
    });
    return { queue, cleanup: () => NatsQueue.destroy({ servers: natsUrl, stream: name }) };
  },
  // Ack waits are timers on the server: one second is short enough for quick tests and long enough that a
  // busy machine does not redeliver a message the test still holds.
  { visibilityTimeoutMs: 1_000, delayMs: 500 },
);
