import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { PubSubQueue } from "@aat/adapter-pubsub";
import { SqsQueue } from "@aat/adapter-sqs";
import { aatConfigSchema } from "@aat/core";
import { motoUrl, pubsubEmulatorHost } from "@aat/core/testing";
import { BackendStartError, openStores } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const moto = motoUrl();
const pubsubHost = pubsubEmulatorHost();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-node-stores-${suffix}`;
const connection = {
  endpoint: moto,
  region,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};

function configWith(settings: Record<string, unknown>) {
  return aatConfigSchema.parse({ dataDir: "/nonexistent/aat-test", ...settings });
}

describe("openStores builds the cloud backends from configuration", () => {
  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    await DynamoKeyValue.createTable({ ...connection, tableName: table });
  });
  afterAll(async () => {
    await DynamoKeyValue.deleteTable({ ...connection, tableName: table });
    await SqsQueue.destroy({ ...connection, name: `aat-node-${suffix}` });
    await PubSubQueue.destroy({
      name: `aat-node-${suffix}`,
      projectId: "aat-test-project",
      apiEndpoint: pubsubHost,
    });
  });

  it("kv dynamodb with queue sqs, on moto", async () => {
    const stores = await openStores(
      configWith({
        kv: { kind: "dynamodb", dynamodb: { table, region, endpoint: moto } },
        queue: {
          kind: "sqs",
          sqs: { queueUrl: `${moto}/123456789012/aat-node-${suffix}`, region, endpoint: moto },
        },
      }),
    );
    try {
      expect(stores.description).toContain(`kv dynamodb table ${table}`);
      expect(stores.description).toContain("queue sqs");
      expect(await stores.kv.set("stores/check", { ok: true })).toBe(1);
      expect((await stores.kv.get("stores/check"))?.value).toEqual({ ok: true });
      const body = { kind: "timer", runId: "r-1", timerId: "t-1" } as const;
      await stores.queue.publish(body as never);
      const [message] = await stores.queue.receive({ waitMs: 5_000 });
      expect(message?.body).toEqual(body);
      await stores.queue.ack(message!);
      await stores.kv.delete("stores/check");
    } finally {
      await stores.close();
    }
  });

  it("queue pubsub on the emulator, claims in the configured kv", async () => {
    const stores = await openStores(
      configWith({
        kv: { kind: "memory" },
        queue: {
          kind: "pubsub",
          pubsub: { projectId: "aat-test-project", topic: `aat-node-${suffix}`, emulatorHost: pubsubHost },
        },
      }),
    );
    try {
      expect(stores.description).toContain(`queue pubsub topic aat-node-${suffix}`);
      const body = { kind: "timer", runId: "r-2", timerId: "t-2" } as const;
      await stores.queue.publish(body as never);
      const [message] = await stores.queue.receive({ waitMs: 10_000 });
      expect(message?.body).toEqual(body);
      await stores.queue.ack(message!);
    } finally {
      await stores.close();
    }
  });

  it("says which DynamoDB table is missing and which settings point there", async () => {
    const failure = await openStores(
      configWith({
        kv: { kind: "dynamodb", dynamodb: { table: `missing-${suffix}`, region, endpoint: moto } },
        queue: { kind: "memory" },
      }),
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(BackendStartError);
    expect((failure as Error).message).toMatch(/kv\.kind dynamodb\) could not be opened: .*does not exist/);
    expect((failure as Error).message).toContain("AAT_DYNAMODB_TABLE");
  });
});
