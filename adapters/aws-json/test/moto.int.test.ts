import { motoUrl } from "@aat/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { AwsJsonRestClient } from "../src/index.js";

// The REST client against moto (scripts/services.sh moto): the JSON protocols, signing and error names.
const connection = {
  endpoint: motoUrl(),
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const dynamo = new AwsJsonRestClient({ service: "dynamodb", ...connection });
const sqs = new AwsJsonRestClient({ service: "sqs", ...connection });
const table = `aat-awsjson-${suffix}`;
let queueUrl: string | undefined;

afterAll(async () => {
  await dynamo.call("DeleteTable", { TableName: table }).catch(() => undefined);
  if (queueUrl) await sqs.call("DeleteQueue", { QueueUrl: queueUrl }).catch(() => undefined);
});

describe("AwsJsonRestClient on moto", () => {
  it("writes, reads and refuses a conditional write on DynamoDB", async () => {
    await dynamo.call("CreateTable", {
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    });
    const item = { pk: { S: "a" }, n: { N: "1" } };
    await dynamo.call("PutItem", {
      TableName: table,
      Item: item,
      ConditionExpression: "attribute_not_exists(pk)",
    });
    expect(
      await dynamo.call("GetItem", { TableName: table, Key: { pk: { S: "a" } }, ConsistentRead: true }),
    ).toEqual({ Item: item });
    await expect(
      dynamo.call("PutItem", {
        TableName: table,
        Item: item,
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    ).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    const cancelled = await dynamo
      .call("TransactWriteItems", {
        TransactItems: [
          { Put: { TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" } },
        ],
      })
      .catch((error: unknown) => error);
    expect(cancelled).toMatchObject({ name: "TransactionCanceledException" });
    await expect(
      dynamo.call("GetItem", { TableName: `${table}-missing`, Key: { pk: { S: "a" } } }),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("sends, receives and deletes on SQS, and names a missing queue", async () => {
    ({ QueueUrl: queueUrl } = await sqs.call<{ QueueUrl: string }>("CreateQueue", {
      QueueName: `aat-awsjson-${suffix}`,
    }));
    const sent = await sqs.call<{ MessageId: string }>("SendMessage", {
      QueueUrl: queueUrl,
      MessageBody: "hello",
      MessageAttributes: { trace: { DataType: "String", StringValue: "t1" } },
    });
    expect(sent.MessageId).toMatch(/\S/);
    const { Messages } = await sqs.call<{
      Messages?: Array<{
        Body: string;
        ReceiptHandle: string;
        MessageAttributes?: Record<string, { StringValue?: string }>;
      }>;
    }>("ReceiveMessage", {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: 1,
      MessageAttributeNames: ["All"],
    });
    expect(Messages?.[0]?.Body).toBe("hello");
    expect(Messages?.[0]?.MessageAttributes?.trace?.StringValue).toBe("t1");
    await sqs.call("DeleteMessage", { QueueUrl: queueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle });
    await expect(
      sqs.call("GetQueueUrl", { QueueName: `aat-awsjson-missing-${suffix}` }),
    ).rejects.toMatchObject({
      name: "QueueDoesNotExist",
    });
  });
});
