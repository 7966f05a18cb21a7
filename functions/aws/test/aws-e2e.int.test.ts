import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { loadConfig, type QueueMessage, runKeys, signWebhook, type WorkMessage } from "@aat/core";
import { motoUrl, offlineVerdictPlan } from "@aat/core/testing";
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
import { RecordingServer } from "../../../core/test/tools/alerts/recording-server.js";
import {
  createHttpHandler,
  createLambdaLogger,
  createLambdaRuntime,
  createScheduleHandler,
  createWorkerHandler,
  type LambdaRuntime,
} from "../src/index.js";
import { httpEvent, lambdaContext, motoStoreEnv } from "./support.js";

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

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const ADMIN_KEY = `aat_lambda-e2e_${"k".repeat(40)}`;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in this test.
type J = any;

const OFFLINE_PLAN = offlineVerdictPlan("test.lambda-offline", "Offline verdict on Lambda");

describe("AWS end to end on moto: API Gateway → http handler, SQS → worker handler, state in DynamoDB", () => {
  let plansDir: string;
  let runtime: LambdaRuntime;
  const sqs = new SQSClient(connection);
  const logs: string[] = [];
  let recorder: RecordingServer;

  beforeAll(async () => {
    // Stands in for the SOC's notification webhook and the firewall the alert plans call.
    recorder = await new RecordingServer().route(() => ({ body: { ok: true } })).start();
    // The SDK's credential chain reads these in the handlers (moto accepts any).
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    plansDir = mkdtempSync(join(tmpdir(), "aat-lambda-plans-"));
    writeFileSync(join(plansDir, "offline.yaml"), OFFLINE_PLAN);
    await DynamoKeyValue.createTable({ ...connection, tableName: table });
    // Configuration exactly as a Lambda function gets it: environment variables through core's loader.
    const { config } = loadConfig({
      env: {
        ...motoStoreEnv({ moto, region, table, queueName }),
        AAT_AUTH_MODE: "apiKey",
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
        // The shipped alert plans beside the test's own: they load only if the alert tools are there.
        AAT_PLANS_DIRS: `${plansDir},${join(REPO_ROOT, "plans/alerts")}`,
        AAT_PLANS_WATCH: "false",
        AAT_THREATINTEL_FEEDS: join(REPO_ROOT, "examples/threatintel/sample-feed.csv"),
        AAT_HTTP_ALLOW_HOSTS: "127.0.0.1",
        AAT_ACTIONS_CHANNELS_JSON: JSON.stringify({
          soc: { kind: "webhook", url: `${recorder.url}/notify` },
        }),
        AAT_ACTIONS_RESPONSE_JSON: JSON.stringify({
          firewall: {
            kind: "block_indicator",
            url: `${recorder.url}/fw/block`,
            body: { value: "{% indicator %}" },
          },
        }),
      },
    });
    runtime = await createLambdaRuntime({
      config,
      logger: createLambdaLogger("info", (line) => logs.push(line)),
    });
  });

  afterAll(async () => {
    await runtime?.close();
    await recorder?.stop();
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

  it("triages an alert posted to the webhook route with the shipped alerts.triage plan, through SQS batches to a final status", async () => {
    const get = () => Promise.resolve(runtime);
    const http = createHttpHandler(get);
    const worker = createWorkerHandler(get);
    const api = async (method: string, path: string, body?: unknown) => {
      const answer = await http(
        httpEvent(method, path, { headers: auth, ...(body !== undefined ? { body } : {}) }),
        lambdaContext(),
      );
      return { status: answer.statusCode, json: JSON.parse(answer.body || "null") as J };
    };
    // Every shipped alert plan loaded: their threat-intel and response tools are registered on Lambda.
    for (const id of ["alerts.triage", "alerts.brute-force", "alerts.cloud-credential-misuse"]) {
      const plan = await api("GET", `/v1/plans/${id}`);
      expect(plan.status, JSON.stringify(plan.json)).toBe(200);
    }

    const source = await api("POST", "/v1/alert-sources", {
      id: `lambda-${suffix}`,
      format: "generic",
      auth: { mode: "hmac" },
    });
    expect(source.status, JSON.stringify(source.json)).toBe(201);
    const body = readFileSync(join(REPO_ROOT, "examples/alerts/generic.json"), "utf8");
    const delivered = await http(
      {
        ...httpEvent("POST", `/v1/webhooks/lambda-${suffix}`),
        body,
        headers: {
          host: "id.execute-api.us-east-1.amazonaws.com",
          "content-type": "application/json",
          "x-aat-signature": signWebhook(source.json.secret, body, Math.floor(Date.now() / 1000)),
        },
      },
      lambdaContext("req-webhook"),
    );
    expect(delivered.statusCode, delivered.body).toBe(202);
    const { id: alertId, runId } = (JSON.parse(delivered.body) as J).alerts[0];
    const alertStatus = async () => (await api("GET", `/v1/alerts/${alertId}`)).json.status as string;

    // The worker handler drives the run until the triage hook moved the alert to awaiting_approval.
    await pump(worker, async () => (await alertStatus()) === "awaiting_approval");
    expect((await api("GET", `/v1/runs/${runId}`)).json.run.plan.id).toBe("alerts.triage");
    expect(recorder.requests.filter((r) => r.url === "/fw/block")).toHaveLength(0);
    const approved = await api("POST", `/v1/runs/${runId}/steps/approve_containment/approve`, {
      rationale: "confirmed with the user",
    });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);

    await pump(worker, async () =>
      ["succeeded", "failed"].includes((await api("GET", `/v1/runs/${runId}`)).json.run.status),
    );
    const run = (await api("GET", `/v1/runs/${runId}`)).json.run;
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.output).toMatchObject({ verdict: "true_positive", resolution: "true_positive_contained" });
    // onRunFinished is awaited by the Runner: the final status is written when the run reads finished.
    const alert = (await api("GET", `/v1/alerts/${alertId}`)).json;
    expect(alert.status).toBe("resolved");
    expect(alert.resolution.kind).toBe("true_positive");
    expect(JSON.stringify(alert.enrichment)).toContain("http://malware.example.com/payload.exe");
    const timeline = alert.timeline.map((t: J) => t.type);
    for (const type of [
      "received",
      "triage_started",
      "approval_requested",
      "approval_granted",
      "triage_finished",
    ])
      expect(timeline).toContain(type);
    expect(recorder.requests.filter((r) => r.url === "/fw/block").map((r) => r.json)).toContainEqual({
      value: "http://malware.example.com/payload.exe",
    });
    expect(recorder.requests.find((r) => r.url === "/notify")?.json).toMatchObject({
      title: "True positive: Suspicious login from new country",
    });
  }, 120_000);

  /** Lambda's event source mapping in a loop (receive, invoke, delete what did not fail) until `done`. */
  async function pump(worker: ReturnType<typeof createWorkerHandler>, done: () => Promise<boolean>) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn as string;
    for (let round = 0; round < 60; round++) {
      if (await done()) return;
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 2,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      if (Messages.length === 0) continue;
      const result = await worker({ Records: Messages.map((m) => lambdaRecord(m, arn)) }, lambdaContext());
      const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
      const handled = Messages.filter((message) => !failed.has(message.MessageId!));
      if (handled.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: handled.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle!,
            })),
          }),
        );
      }
    }
    throw new Error("the condition was not reached within 60 rounds of SQS batches");
  }

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
