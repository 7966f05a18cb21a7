import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { loadConfig, type QueueMessage, runKeys, type WorkMessage } from "@aat/core";
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createHttpHandler,
  createLambdaLogger,
  createLambdaRuntime,
  createScheduleHandler,
  createWorkerHandler,
  type LambdaRuntime,
} from "../src/index.js";
import { httpEvent, lambdaContext } from "./support.js";

function motoUrl(): string {
  if (process.env.AWS_ENDPOINT_URL) return process.env.AWS_ENDPOINT_URL;
  try {
    return readFileSync(process.env.AAT_MOTO_URL_FILE ?? "/tmp/aat-moto.url", "utf8").trim();
  } catch {
    return "http://127.0.0.1:5055";
  }
}

const moto = motoUrl();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-e2e-${suffix}`;
const queueName = `aat-e2e-${suffix}`;
const connection = {
  endpoint: moto,
  region,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};

const ADMIN_KEY = `aat_lambda-e2e_${"k".repeat(40)}`;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

const OFFLINE_PLAN = `id: test.lambda-offline
workflow: alerts
title: Offline verdict on Lambda
schemas:
  Verdict:
    type: object
    properties:
      verdict: { type: string, enum: [malicious, benign] }
      rationale: { type: string }
    required: [verdict, rationale]
steps:
  - id: intel
    type: set
    values: { score: "{% input.score %}" }
  - id: assess
    type: agent
    prompt: "Threat intel says {% steps.intel.output %}. Decide."
    output: Verdict
`;

describe("AWS end to end on moto: API Gateway → http handler, SQS → worker handler, state in DynamoDB", () => {
  let plansDir: string;
  let runtime: LambdaRuntime;
  const sqs = new SQSClient(connection);
  const logs: string[] = [];

  beforeAll(async () => {
    // The SDK's credential chain reads these in the handlers (moto accepts any).
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    plansDir = mkdtempSync(join(tmpdir(), "aat-lambda-plans-"));
    writeFileSync(join(plansDir, "offline.yaml"), OFFLINE_PLAN);
    await DynamoKeyValue.createTable({ ...connection, tableName: table });
    // Configuration exactly as a Lambda function gets it: environment variables through core's loader.
    const { config } = loadConfig({
      env: {
        AAT_KV_KIND: "dynamodb",
        AAT_DYNAMODB_TABLE: table,
        AAT_DYNAMODB_REGION: region,
        AAT_DYNAMODB_ENDPOINT: moto,
        AAT_QUEUE_KIND: "sqs",
        AAT_SQS_QUEUE_URL: `${moto}/123456789012/${queueName}`,
        AAT_SQS_REGION: region,
        AAT_SQS_ENDPOINT: moto,
        AAT_AUTH_MODE: "apiKey",
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
        AAT_PLANS_DIRS: plansDir,
        AAT_PLANS_WATCH: "false",
      },
    });
    runtime = await createLambdaRuntime({
      config,
      logger: createLambdaLogger("info", (line) => logs.push(line)),
    });
  });

  afterAll(async () => {
    await runtime?.close();
    await SqsQueue.destroy({ ...connection, name: queueName });
    await DynamoKeyValue.deleteTable({ ...connection, tableName: table });
    sqs.destroy();
    rmSync(plansDir, { recursive: true, force: true });
  });

  it("starts a run through the http handler and finishes it with SQS batches fed to the worker handler", async () => {
    const get = () => Promise.resolve(runtime);
    const http = createHttpHandler(get);
    const worker = createWorkerHandler(get);

    const plans = await http(httpEvent("GET", "/v1/plans", { headers: auth }), lambdaContext());
    expect(plans.statusCode, plans.body).toBe(200);
    expect(plans.body).toContain("test.lambda-offline");

    const started = await http(
      httpEvent("POST", "/v1/runs", {
        body: { planId: "test.lambda-offline", input: { score: 92 } },
        headers: { ...auth, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      }),
      lambdaContext("req-start"),
    );
    expect(started.statusCode, started.body).toBe(202);
    const { runId } = JSON.parse(started.body) as { runId: string };
    expect(logs.some((line) => line.includes('"requestId":"req-start"'))).toBe(true);

    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn as string;

    // One record fails on its first delivery (an outage of the store while handling, say): it must be
    // reported in batchItemFailures, left in the queue, and succeed when delivered again.
    let injected: string | undefined;
    const handle = runtime.runner.handle.bind(runtime.runner);
    runtime.runner.handle = async (message: QueueMessage<WorkMessage>) => {
      if (injected === undefined && message.body.kind === "execute") {
        injected = message.id;
        throw new Error("injected failure: DynamoDB throttled");
      }
      return handle(message);
    };

    const reported: string[] = [];
    const deliveries = new Map<string, number>();
    let status = "";
    for (let round = 0; round < 60 && !["succeeded", "failed"].includes(status); round++) {
      // What Lambda's event source mapping does: receive a batch, invoke, delete what did not fail.
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          // The mapping uses the queue's visibility timeout; a short one here so the redelivery of the
          // failed record comes within the test.
          VisibilityTimeout: 2,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      if (Messages.length > 0) {
        for (const message of Messages)
          deliveries.set(message.MessageId!, (deliveries.get(message.MessageId!) ?? 0) + 1);
        const event: SQSEvent = { Records: Messages.map((message) => lambdaRecord(message, arn)) };
        const result = await worker(event, lambdaContext());
        const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
        reported.push(...failed);
        const done = Messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: done.map((message, index) => ({
                Id: String(index),
                ReceiptHandle: message.ReceiptHandle!,
              })),
            }),
          );
        }
      }
      const view = await http(httpEvent("GET", `/v1/runs/${runId}`, { headers: auth }), lambdaContext());
      status = (JSON.parse(view.body) as { run: { status: string } }).run.status;
    }

    const final = await http(httpEvent("GET", `/v1/runs/${runId}`, { headers: auth }), lambdaContext());
    const { run } = JSON.parse(final.body) as {
      run: { status: string; output?: { verdict?: string; rationale?: string } };
    };
    expect(run.status, final.body).toBe("succeeded");
    expect(run.output?.verdict).toBe("malicious");
    expect(run.output?.rationale).toMatch(/offline model/i);

    expect(injected).toBeDefined();
    expect(reported).toContain(injected);
    expect(deliveries.get(injected!)).toBeGreaterThanOrEqual(2);
    // State lives in DynamoDB: a second runtime on the same table sees the finished run.
    const other = await DynamoKeyValue.connect({ ...connection, tableName: table });
    try {
      expect((await other.get(runKeys.snapshot(runId)))?.value).toMatchObject({ status: "succeeded" });
      // The run's event log is one Query on its bucket ("runlog/").
      const log = await other.list(runKeys.logPrefix(runId), { limit: 1000 });
      expect(log.entries.length).toBeGreaterThan(2);
    } finally {
      await other.close();
    }
  });

  it("reports a malformed record as a failure without stopping the rest of the batch", async () => {
    const worker = createWorkerHandler(() => Promise.resolve(runtime));
    const result = await worker(
      { Records: [{ messageId: "broken-1", body: 42 }, { nothing: true }] } as unknown as SQSEvent,
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "broken-1" }]);
  });

  it("starts a plan from an EventBridge Scheduler Input, once per runId", async () => {
    const schedule = createScheduleHandler(() => Promise.resolve(runtime));
    const event = { planId: "test.lambda-offline", input: { score: 10 }, runId: `nightly-${suffix}` };
    const first = await schedule(event, lambdaContext());
    const again = await schedule(event, lambdaContext());
    expect(first).toEqual({ started: { runId: `nightly-${suffix}`, created: true } });
    expect(again).toEqual({ started: { runId: `nightly-${suffix}`, created: false } });
    await expect(schedule({ planId: 7 }, lambdaContext())).rejects.toThrow(/the Input must be/);
  });
});

/** An SDK message as the record Lambda's event source mapping puts in an SQS event. */
function lambdaRecord(message: Message, arn: string): SQSRecord {
  const messageAttributes: SQSRecord["messageAttributes"] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }
        : {}),
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? "",
    attributes: message.Attributes as SQSRecord["attributes"],
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: region,
  };
}
