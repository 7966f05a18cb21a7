import { MemoryKeyValue } from "@aat/adapter-memory";
import { pubsubEmulatorHost, queueContract } from "@aat/core/testing";
import { describe, expect, it } from "vitest";
import { PubSubQueue } from "../src/index.js";

const apiEndpoint = pubsubEmulatorHost();
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

queueContract(
  "PubSubQueue on the Pub/Sub emulator, publishing through the REST API",
  async (options) => {
    const where = { name: options.name, projectId: "aat-test-project", apiEndpoint };
    const queue = await PubSubQueue.open({ ...options, ...where, kv, rest: { auth: "none" } });
    return { queue, cleanup: () => PubSubQueue.destroy(where) };
  },
  { visibilityTimeoutMs: 1000, delayMs: 1000, quietMs: 500 },
);

describe("provision: false (a deployment owns the topics)", () => {
  it("creates nothing at open, and works on topics and subscriptions made beforehand", async () => {
    const { PubSub } = await import("@google-cloud/pubsub");
    const name = `aat-provision-${Date.now().toString(36)}`;
    const where = { name, projectId: "aat-test-project", apiEndpoint };
    const client = new PubSub({ projectId: where.projectId, apiEndpoint });
    try {
      const bare = await PubSubQueue.open({ ...where, kv, provision: false });
      await bare.close();
      expect((await client.topic(name).exists())[0]).toBe(false);
      // What infra-gcp creates; then the queue works without creating anything itself.
      await client.createTopic(name);
      await client.createTopic(`${name}-dead`);
      await client.topic(name).createSubscription(`${name}-work`, { ackDeadlineSeconds: 10 });
      await client.topic(`${name}-dead`).createSubscription(`${name}-dead-store`);
      const queue = await PubSubQueue.open<{ n: number }>({ ...where, kv, provision: false });
      await queue.publish({ n: 1 });
      const received = await eventually(async () => (await queue.receive({ waitMs: 500 }))[0]);
      expect(received.body).toEqual({ n: 1 });
      await queue.ack(received);
      await queue.close();
      // Publishing through REST needs no client library until something pulls.
      const rest = await PubSubQueue.open<{ n: number }>({
        ...where,
        kv,
        provision: false,
        rest: { auth: "none" },
      });
      await rest.ping();
      await rest.publish({ n: 2 });
      expect((rest as unknown as { library?: unknown }).library).toBeUndefined();
      const second = await eventually(async () => (await rest.receive({ waitMs: 500 }))[0]);
      expect(second.body).toEqual({ n: 2 });
      await rest.ack(second);
      await rest.close();
      await expect(
        PubSubQueue.open({
          ...where,
          name: `${name}-missing`,
          kv,
          provision: false,
          rest: { auth: "none" },
        }).then((missing) => missing.ping()),
      ).rejects.toThrow(/Pub\/Sub REST GET .*-missing answered 404/);
    } finally {
      await PubSubQueue.destroy(where);
      await client.close();
    }
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, tries = 40): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
  }
  throw new Error("nothing arrived");
}
