import { readFileSync } from "node:fs";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { queueContract } from "@aat/core/testing";
import { PubSubQueue } from "../src/index.js";

/** The emulator scripts/services.sh started: PUBSUB_EMULATOR_HOST, else the host it recorded, else 8085. */
function emulatorHost(): string {
  if (process.env.PUBSUB_EMULATOR_HOST) return process.env.PUBSUB_EMULATOR_HOST;
  try {
    return readFileSync(process.env.AAT_PUBSUB_HOST_FILE ?? "/tmp/aat-pubsub.host", "utf8").trim();
  } catch {
    return "127.0.0.1:8085";
  }
}

const apiEndpoint = emulatorHost();
const kv = new MemoryKeyValue();

queueContract(
  "PubSubQueue on the Pub/Sub emulator",
  async (options) => {
    const where = { name: options.name, projectId: "aat-test-project", apiEndpoint };
    const queue = await PubSubQueue.open({ ...options, ...where, kv });
    return { queue, cleanup: () => PubSubQueue.destroy(where) };
  },
  // modifyAckDeadline counts whole seconds: leases and delays of 1 s are the shortest Pub/Sub knows.
  { visibilityTimeoutMs: 1000, delayMs: 1000, quietMs: 500 },
);
