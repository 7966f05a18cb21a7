import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsJsonRestClient } from "@aat/adapter-aws-json";
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
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { SqsQueue } from "../src/index.js";
import { awsTestConnection, TRANSPORTS } from "./aws-env.js";

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

type Transport = (typeof TRANSPORTS)[number];

async function open(transport: Transport, extra: Partial<Parameters<typeof SqsQueue.connect>[0]> = {}) {
  const name = `aat-sqs-${uniqueSuffix()}`;
  const queue = await SqsQueue.connect<Body>({
    ...awsTestConnection,
    transport,
    name,
    visibilityTimeoutMs: 30_000,
    ...extra,
  });
  expect(queue.transport).toBe(transport);
  cleanups.push(async () => {
    await queue.close();
    await SqsQueue.destroy({ ...awsTestConnection, transport, name });
  });
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return { queue, url: QueueUrl! };
}

const receiveOne = (queue: SqsQueue<Body>) =>
  eventually("a message", async () => (await queue.receive({ waitMs: 1000 }))[0], 10_000, 0);

describe.each(TRANSPORTS)("SqsQueue on moto (%s transport)", (transport) => {
  it("sends a payload over 256 KiB by reference through S3 and fetches it transparently", async () => {
    const { queue } = await open(transport, { claimCheck: { bucket, create: true } });
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
    const { queue } = await open(transport);
    await expect(queue.publish({ marker: "big", blob: "x".repeat(300 * 1024) })).rejects.toThrow(
      /configure claimCheck/,
    );
  });

  it("carries traceparent as a native SQS message attribute (for Lambda and other consumers)", async () => {
    const { queue, url } = await open(transport);
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
    const { queue, url } = await open(transport);
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
    const { queue, url } = await open(transport);
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
    const { queue, url } = await open(transport, {
      claimCheck: { bucket, create: true },
      kv: new MemoryKeyValue(),
    });
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
    await expect(SqsQueue.connect({ ...awsTestConnection, transport, name: "bad name!" })).rejects.toThrow(
      /letters, digits, dashes/,
    );
    await expect(
      SqsQueue.connect({ ...awsTestConnection, transport, name: "q", fifo: true, dedupeWindowMs: 1000 }),
    ).rejects.toThrow(/fixed at 5 minutes/);
  });
});

describe.each(TRANSPORTS)("a queue a deployment made (%s transport)", (transport) => {
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
    const queue = await SqsQueue.connect<Body>({ ...awsTestConnection, transport, name });
    expect(queue.transport).toBe(transport);
    cleanups.push(async () => {
      await queue.close();
      await SqsQueue.destroy({ ...awsTestConnection, transport, name });
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

describe.each(TRANSPORTS)("provision: false (the deployment owns the queues, %s transport)", (transport) => {
  /**
   * The SQS operations a connect sends, named as the SDK's commands: through an SQSClient passed in
   * (SDK), or a spy on the REST client's calls (REST).
   */
  const counting = () => {
    const sent: string[] = [];
    if (transport === "rest") {
      const call = AwsJsonRestClient.prototype.call;
      const spy = vi.spyOn(AwsJsonRestClient.prototype, "call").mockImplementation(function (
        this: AwsJsonRestClient,
        operation,
        input,
      ) {
        sent.push(`${operation}Command`);
        return call.call(this, operation, input) as never;
      });
      cleanups.unshift(async () => spy.mockRestore());
      return { options: { ...awsTestConnection, transport }, sent };
    }
    const client = new SQSClient(awsTestConnection);
    const send = client.send.bind(client);
    client.send = ((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return send(command as never);
    }) as typeof client.send;
    cleanups.unshift(async () => client.destroy());
    return { options: { client }, sent };
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
    const { options, sent } = counting();
    const queue = await SqsQueue.connect<Body>({ ...options, name, provision: false, queueUrl });
    expect(queue.transport).toBe(transport);
    cleanups.unshift(async () => {
      await queue.close();
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
    const { options, sent } = counting();
    const queue = await SqsQueue.connect<Body>({ ...options, name, provision: false });
    cleanups.unshift(async () => {
      await queue.close();
    });
    expect(sent).toEqual(["GetQueueUrlCommand", "GetQueueAttributesCommand"]);
  });

  it("refuses a queue without a redrive policy, and a missing queue, saying what the deployment must do", async () => {
    const name = `aat-sqs-${uniqueSuffix()}`;
    await deploy(name, undefined);
    await expect(
      SqsQueue.connect({ ...awsTestConnection, transport, name, provision: false }),
    ).rejects.toThrow(
      /has no redrive policy, so failed steps could not be dead-lettered; with provision false the deployment owns the queue/,
    );
    await expect(
      SqsQueue.connect({
        ...awsTestConnection,
        transport,
        name: `aat-sqs-missing-${uniqueSuffix()}`,
        provision: false,
      }),
    ).rejects.toThrow(/could not be opened .*set provision true \(AAT_SQS_PROVISION\)/);
  });
});

describe("transport auto", () => {
  const { endpoint, region, credentials } = awsTestConnection;
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const roundTrip = async (queue: SqsQueue<Body>) => {
    const marker = uniqueSuffix();
    await queue.publish({ marker });
    const received = await receiveOne(queue);
    expect(received.body.marker).toBe(marker);
    await queue.ack(received);
  };

  it("picks REST with credentials and a region in the environment, as in a Lambda function", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", credentials.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", "session-token");
    vi.stubEnv("AWS_REGION", region);
    vi.stubEnv("AWS_ENDPOINT_URL_SQS", endpoint);
    const name = `aat-sqs-${uniqueSuffix()}`;
    const queue = await SqsQueue.connect<Body>({ name });
    cleanups.push(async () => {
      await queue.close();
      // The environment may be unstubbed by then: the connection is explicit.
      await SqsQueue.destroy({ ...awsTestConnection, name });
    });
    expect(queue.transport).toBe("rest");
    await roundTrip(queue);
  });

  it("picks the SDK when only its provider chain finds credentials (a profile here), and for a client passed in", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aat-sqs-profile-"));
    writeFileSync(
      join(dir, "credentials"),
      `[aat-test]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`,
    );
    writeFileSync(join(dir, "config"), "");
    vi.stubEnv("AWS_ACCESS_KEY_ID", undefined);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", undefined);
    vi.stubEnv("AWS_SESSION_TOKEN", undefined);
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(dir, "credentials"));
    vi.stubEnv("AWS_CONFIG_FILE", join(dir, "config"));
    vi.stubEnv("AWS_PROFILE", "aat-test");
    const name = `aat-sqs-${uniqueSuffix()}`;
    const queue = await SqsQueue.connect<Body>({ name, endpoint, region });
    cleanups.push(async () => {
      await queue.close();
      await SqsQueue.destroy({ ...awsTestConnection, name });
      rmSync(dir, { recursive: true, force: true });
    });
    expect(queue.transport).toBe("sdk");
    await roundTrip(queue);
    await expect(SqsQueue.connect({ name, endpoint, region, transport: "rest" })).rejects.toThrow(
      /transport "rest" needs credentials \(the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\)/,
    );

    const passed = await SqsQueue.connect<Body>({ ...awsTestConnection, name, client: sqs });
    expect(passed.transport).toBe("sdk");
    await roundTrip(passed);
    // A client passed in stays open: the queue did not destroy it.
    await passed.close();
    await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  });
});

describe("both clients speak SQS's JSON protocol shapes", () => {
  it("send and receive binary, number and string attributes alike (binary as base64 text), and name a missing queue alike", async () => {
    const { SqsSdkJsonClient } = await import("../src/sdk-client.js");
    const clients = {
      rest: new AwsJsonRestClient({ service: "sqs", ...awsTestConnection }),
      sdk: new SqsSdkJsonClient(sqs, false),
    };
    const name = `aat-sqs-${uniqueSuffix()}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    cleanups.push(async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    });
    const attributes = {
      b: { DataType: "Binary", BinaryValue: Buffer.from([0, 1, 2, 250]).toString("base64") },
      n: { DataType: "Number", StringValue: "42" },
      s: { DataType: "String", StringValue: "text" },
    };
    const received: Record<string, unknown> = {};
    for (const [sender, client] of Object.entries(clients)) {
      await client.call("SendMessage", { QueueUrl, MessageBody: sender, MessageAttributes: attributes });
    }
    for (const [receiver, client] of Object.entries(clients)) {
      const { Messages } = await client.call<{
        Messages?: Array<{
          Body: string;
          ReceiptHandle: string;
          MessageAttributes: unknown;
          Attributes: unknown;
        }>;
      }>("ReceiveMessage", {
        QueueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 2,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      });
      const message = Messages?.[0];
      expect(message?.MessageAttributes).toEqual(attributes);
      expect(message?.Attributes).toEqual({ ApproximateReceiveCount: "1" });
      received[receiver] = message?.Body;
      await client.call("DeleteMessage", { QueueUrl, ReceiptHandle: message?.ReceiptHandle });
    }
    expect(Object.values(received).sort()).toEqual(["rest", "sdk"]);
    for (const client of Object.values(clients)) {
      await expect(
        client.call("GetQueueUrl", { QueueName: `aat-sqs-missing-${uniqueSuffix()}` }),
      ).rejects.toMatchObject({ name: "QueueDoesNotExist" });
      await expect(
        client.call("CreateQueue", { QueueName: name, Attributes: { DelaySeconds: "5" } }),
      ).rejects.toMatchObject({
        name: "QueueNameExists",
      });
      expect(await client.call("GetQueueAttributes", { QueueUrl, AttributeNames: ["DelaySeconds"] })).toEqual(
        {
          Attributes: { DelaySeconds: "0" },
        },
      );
    }
  });

  it("a message another producer sent with binary and number attributes is received alike on both transports", async () => {
    for (const transport of TRANSPORTS) {
      const { queue, url } = await open(transport);
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: JSON.stringify({ marker: transport }),
          MessageAttributes: {
            traceparent: { DataType: "String", StringValue: "00-abc-def-01" },
            n: { DataType: "Number", StringValue: "7" },
            b: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
          },
        }),
      );
      const message = await receiveOne(queue);
      expect(message.body).toEqual({ marker: transport });
      // Binary attributes are not the port's (string attributes): left out on both transports.
      expect(message.attributes).toEqual({ traceparent: "00-abc-def-01", n: "7" });
      expect(message.deliveryCount).toBe(1);
      expect(message.publishedAt).toBeGreaterThan(0);
      await queue.ack(message);
    }
  });
});
