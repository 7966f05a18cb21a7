import { MemoryKeyValue } from "@aat/adapter-memory";
import { eventually, uniqueSuffix } from "@aat/core/testing";
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SqsQueue } from "../src/index.js";
import { awsTestConnection } from "./aws-env.js";

interface Body {
  marker: string;
  blob?: string;
}

const sqs = new SQSClient(awsTestConnection);
const s3 = new S3Client({ ...awsTestConnection, forcePathStyle: true });
const bucket = `aat-claims-${uniqueSuffix()}`.toLowerCase();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined);
  const objects = (listed?.Contents ?? []).map(({ Key }) => ({ Key }));
  if (objects.length > 0)
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  if (listed) await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  sqs.destroy();
  s3.destroy();
});

async function open(extra: Partial<Parameters<typeof SqsQueue.connect>[0]> = {}) {
  const name = `aat-sqs-${uniqueSuffix()}`;
  const queue = await SqsQueue.connect<Body>({
    ...awsTestConnection,
    name,
    visibilityTimeoutMs: 30_000,
    ...extra,
  });
  cleanups.push(async () => {
    await queue.close();
    await SqsQueue.destroy({ ...awsTestConnection, name });
  });
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return { queue, url: QueueUrl! };
}

const receiveOne = (queue: SqsQueue<Body>) =>
  eventually("a message", async () => (await queue.receive({ waitMs: 1000 }))[0], 10_000, 0);

describe("SqsQueue on moto", () => {
  it("sends a payload over 256 KiB by reference through S3 and fetches it transparently", async () => {
    const { queue } = await open({ claimCheck: { bucket, create: true } });
    const body = { marker: uniqueSuffix(), blob: "x".repeat(300 * 1024) };
    await queue.publish(body, {
      attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `aat-claims/${queue.name}/` }),
    );
    expect(listed.KeyCount).toBe(1);
    const message = await receiveOne(queue);
    expect(message.body).toEqual(body);
    expect(message.attributes.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    await queue.ack(message);
  });

  it("refuses an oversized payload without a claim check, saying how to fix it", async () => {
    const { queue } = await open();
    await expect(queue.publish({ marker: "big", blob: "x".repeat(300 * 1024) })).rejects.toThrow(
      /configure claimCheck/,
    );
  });

  it("carries traceparent as a native SQS message attribute (for Lambda and other consumers)", async () => {
    const { queue, url } = await open();
    await queue.publish(
      { marker: uniqueSuffix() },
      { attributes: { traceparent: "00-abc-def-01", empty: "" } },
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ["All"],
        WaitTimeSeconds: 2,
        VisibilityTimeout: 0,
      }),
    );
    expect(Messages?.[0]?.MessageAttributes?.traceparent?.StringValue).toBe("00-abc-def-01");
    const message = await receiveOne(queue);
    // SQS refuses empty attribute values: the adapter carries them in its envelope instead.
    expect(message.attributes).toEqual({ traceparent: "00-abc-def-01", empty: "" });
    await queue.ack(message);
  });

  it("re-publishes a message received before its not-before time with the remaining delay", async () => {
    const { queue, url } = await open();
    const notBefore = Date.now() + 20 * 60_000;
    // What a 35-minute delay looks like after its first native 15 minutes.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify({ marker: "later" }),
        MessageAttributes: {
          aat: { DataType: "String", StringValue: JSON.stringify({ nb: notBefore, p: 1 }) },
        },
      }),
    );
    expect(await queue.receive({ waitMs: 2000, maxMessages: 10 })).toEqual([]);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
      }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesDelayed).toBe("1");
    expect(Attributes?.ApproximateNumberOfMessages).toBe("0");
  });

  it("dead-letters a record it cannot read instead of dropping or redelivering it", async () => {
    const { queue, url } = await open();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "not json {" }));
    expect(await queue.receive({ waitMs: 2000 })).toEqual([]);
    const letters = await eventually(
      "the dead letter",
      async () => (await queue.listDeadLetters())[0],
      10_000,
    );
    expect(letters.reason).toMatch(/unreadable message/);
    expect(letters.body).toBe("not json {");
  });

  it("decodes a Lambda SQS event record like its own receive (claim check, attributes, dedupe id), and refuses a non-record", async () => {
    const { queue, url } = await open({ claimCheck: { bucket, create: true }, kv: new MemoryKeyValue() });
    const body = { marker: uniqueSuffix(), blob: "y".repeat(300 * 1024) };
    await queue.publish(body, {
      dedupeId: `lambda-${body.marker}`,
      attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    // What the event source mapping receives, in the shape Lambda hands to the function.
    const raw = await eventually(
      "the raw message",
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MessageAttributeNames: ["All"],
              MessageSystemAttributeNames: ["All"],
              WaitTimeSeconds: 1,
            }),
          )
        ).Messages?.[0],
      10_000,
      0,
    );
    const messageAttributes: Record<
      string,
      { dataType: string; stringValue?: string; binaryValue?: string }
    > = {};
    for (const [name, value] of Object.entries(raw.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType!,
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined
          ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }
          : {}),
      };
    }
    const record = {
      messageId: raw.MessageId!,
      receiptHandle: raw.ReceiptHandle!,
      body: raw.Body!,
      attributes: raw.Attributes ?? {},
      messageAttributes,
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queue.name}`,
    };
    const message = await queue.decodeLambdaRecord(record);
    expect(message?.body).toEqual(body);
    expect(message?.dedupeId).toBe(`lambda-${body.marker}`);
    expect(message?.deliveryCount).toBe(1);
    expect(message?.attributes.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    await queue.ack(message!);
    await expect(queue.decodeLambdaRecord({ messageId: "m-1", body: 42 })).rejects.toThrow(
      /not a Lambda SQS event record: .*receiptHandle/s,
    );
  });

  it("rejects bad options with the field and the fix", async () => {
    await expect(SqsQueue.connect({ ...awsTestConnection, name: "bad name!" })).rejects.toThrow(
      /letters, digits, dashes/,
    );
    await expect(
      SqsQueue.connect({ ...awsTestConnection, name: "q", fifo: true, dedupeWindowMs: 1000 }),
    ).rejects.toThrow(/fixed at 5 minutes/);
  });
});

describe("a queue a deployment made", () => {
  it("is opened with its own settings when they differ from the adapter's defaults", async () => {
    const name = `aat-sqs-${uniqueSuffix()}`;
    // As infrastructure as code makes it: a dead-letter queue, and the queue with a longer visibility
    // timeout and another receive count than the adapter would choose.
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }),
    );
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: "360",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 3 }),
        },
      }),
    );
    const queue = await SqsQueue.connect<Body>({ ...awsTestConnection, name });
    cleanups.push(async () => {
      await queue.close();
      await SqsQueue.destroy({ ...awsTestConnection, name });
    });
    expect(queue.maxDeliveries).toBe(3);
    await queue.publish({ marker: "deployed" });
    const received = await receiveOne(queue);
    expect(received.body.marker).toBe("deployed");
    await queue.ack(received);
    // The queue was left as deployed.
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    const after = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["VisibilityTimeout"] }),
    );
    expect(after.Attributes?.VisibilityTimeout).toBe("360");
  });
});

describe("provision: false (the deployment owns the queues)", () => {
  /** The SQS commands a connect sends, by name. */
  const counting = () => {
    const sent: string[] = [];
    const client = new SQSClient(awsTestConnection);
    const send = client.send.bind(client);
    client.send = ((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return send(command as never);
    }) as typeof client.send;
    return { client, sent };
  };

  const deploy = async (name: string, deadLetterName: string | undefined) => {
    const attributes: Record<string, string> = { VisibilityTimeout: "120" };
    if (deadLetterName) {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: deadLetterName }));
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }),
      );
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: Attributes!.QueueArn,
        maxReceiveCount: 4,
      });
    }
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    cleanups.push(async () => {
      for (const queueName of [name, deadLetterName]) {
        if (!queueName) continue;
        const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      }
    });
    return QueueUrl!;
  };

  it("opens the queue with one GetQueueAttributes and dead-letters to its redrive policy's queue", async () => {
    const name = `aat-sqs-${uniqueSuffix()}`;
    // A dead-letter queue not named "<name>-dlq": the redrive policy says which it is.
    const queueUrl = await deploy(name, `${name}-failed`);
    const { client, sent } = counting();
    const queue = await SqsQueue.connect<Body>({ name, client, provision: false, queueUrl });
    cleanups.unshift(async () => {
      await queue.close();
      client.destroy();
    });
    expect(sent).toEqual(["GetQueueAttributesCommand"]);
    expect(queue.maxDeliveries).toBe(4);
    await queue.publish({ marker: "owned" });
    const received = await receiveOne(queue);
    await queue.deadLetter(received, "the step failed for good");
    const letters = await eventually(
      "the dead letter",
      async () => {
        const listed = await queue.listDeadLetters({ limit: 10 });
        return listed.length > 0 ? listed : undefined;
      },
      10_000,
      0,
    );
    expect(letters.map((letter) => letter.reason)).toEqual(["the step failed for good"]);
    expect(sent).not.toContain("CreateQueueCommand");
  });

  it("finds the queue by name without a URL (GetQueueUrl, then GetQueueAttributes)", async () => {
    const name = `aat-sqs-${uniqueSuffix()}`;
    await deploy(name, `${name}-dlq`);
    const { client, sent } = counting();
    const queue = await SqsQueue.connect<Body>({ name, client, provision: false });
    cleanups.unshift(async () => {
      await queue.close();
      client.destroy();
    });
    expect(sent).toEqual(["GetQueueUrlCommand", "GetQueueAttributesCommand"]);
  });

  it("refuses a queue without a redrive policy, and a missing queue, saying what the deployment must do", async () => {
    const name = `aat-sqs-${uniqueSuffix()}`;
    await deploy(name, undefined);
    await expect(SqsQueue.connect({ ...awsTestConnection, name, provision: false })).rejects.toThrow(
      /has no redrive policy, so failed steps could not be dead-lettered; with provision false the deployment owns the queue/,
    );
    await expect(
      SqsQueue.connect({ ...awsTestConnection, name: `aat-sqs-missing-${uniqueSuffix()}`, provision: false }),
    ).rejects.toThrow(/could not be opened .*set provision true \(AAT_SQS_PROVISION\)/);
  });
});
