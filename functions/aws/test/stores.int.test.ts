import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { loadConfig, type WorkMessage } from "@aat/core";
import { motoUrl } from "@aat/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LambdaStores, openLambdaStores } from "../src/index.js";
import { motoStoreEnv } from "./support.js";

const moto = motoUrl();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-stores-${suffix}`;
const queueName = `aat-stores-${suffix}`;
const bucket = `aat-claims-${suffix}`.toLowerCase();
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

describe("Lambda stores from configuration (moto)", () => {
  let stores: LambdaStores | undefined;

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    await DynamoKeyValue.createTable({ endpoint: moto, region, credentials, tableName: table });
    // The claim-check bucket exists before the function starts, as in a deployment.
    const creator = await SqsQueue.connect({
      endpoint: moto,
      region,
      credentials,
      name: `${queueName}-setup`,
      claimCheck: { bucket, create: true },
    });
    await creator.close();
    await SqsQueue.destroy({ endpoint: moto, region, credentials, name: `${queueName}-setup` });
  });

  afterAll(async () => {
    await stores?.close();
    await SqsQueue.destroy({ endpoint: moto, region, credentials, name: queueName });
    await DynamoKeyValue.deleteTable({ endpoint: moto, region, credentials, tableName: table });
  });

  it("sends a step message over 256 KiB through the configured claim-check bucket, and reads it back", async () => {
    const { config } = loadConfig({
      env: {
        ...motoStoreEnv({ moto, region, table, queueName }),
        AAT_SQS_VISIBILITY_TIMEOUT_MS: "45000",
        AAT_SQS_CLAIM_CHECK_BUCKET: bucket,
        AAT_SQS_CLAIM_CHECK_PREFIX: "steps/",
      },
    });
    expect(config.queue.kind === "sqs" && config.queue.sqs.visibilityTimeoutMs).toBe(45_000);
    stores = await openLambdaStores(config);
    const big = {
      kind: "timer",
      runId: "run-big",
      timerId: "x".repeat(300 * 1024),
    } as unknown as WorkMessage;
    await stores.queue.publish(big);
    const received = await stores.queue.receive({ waitMs: 2_000 });
    expect(received[0]?.body).toEqual(big);
    await stores.queue.ack(received[0]!);
  });

  it("opens the deployed queue as it is with AAT_SQS_PROVISION=false (as infra-aws sets it)", async () => {
    // The queue and its dead-letter queue exist (the test above created them, as a deployment would).
    const { config } = loadConfig({
      env: {
        ...motoStoreEnv({ moto, region, table, queueName }),
        AAT_SQS_PROVISION: "false",
      },
    });
    const owned = await openLambdaStores(config);
    try {
      await owned.queue.publish({ kind: "timer", runId: "run-owned", timerId: "t1" });
      const received = await owned.queue.receive({ waitMs: 2_000 });
      expect(received[0]?.body).toEqual({ kind: "timer", runId: "run-owned", timerId: "t1" });
      await owned.queue.deadLetter(received[0]!, "given up in the test");
      const letters = await owned.queue.listDeadLetters();
      expect(letters.map((letter) => letter.reason)).toContain("given up in the test");
    } finally {
      await owned.close();
    }
  });

  it("refuses a visibility timeout SQS cannot set, naming the setting", () => {
    expect(() =>
      loadConfig({
        env: {
          AAT_QUEUE_KIND: "sqs",
          AAT_SQS_QUEUE_URL: `${moto}/123456789012/${queueName}`,
          AAT_SQS_VISIBILITY_TIMEOUT_MS: "50000000",
        },
      }),
    ).toThrow(/AAT_SQS_VISIBILITY_TIMEOUT_MS.*from 1000 to 43200000/);
  });
});
