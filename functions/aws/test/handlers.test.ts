import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { aatConfigSchema, type QueueMessage, type WorkMessage } from "@aat/core";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpHandler,
  createLambdaLogger,
  createLambdaRuntime,
  createScheduleHandler,
  createWorkerHandler,
  type LambdaRuntime,
  type LambdaStores,
  SettlementTracker,
  sqsQueueName,
} from "../src/index.js";
import { fixture, httpEvent, lambdaContext } from "./support.js";

const ADMIN_KEY = `aat_unit-admin_${"a".repeat(40)}`;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
const timer: WorkMessage = { kind: "timer", runId: "run-1", timerId: "t-1" } as WorkMessage;

/**
 * A runtime on memory stores. `decode` plays the SQS adapter's decoder: the record's body is the step
 * message, its receipt handle the delivery's receipt.
 */
async function memoryRuntime(
  decode?: LambdaStores["decode"],
): Promise<{ runtime: LambdaRuntime; lines: string[] }> {
  const queue = new MemoryQueue<WorkMessage>({ name: "unit" });
  const kv = new MemoryKeyValue();
  const lines: string[] = [];
  const stores: LambdaStores = {
    kv,
    queue,
    description: "memory",
    decode:
      decode ??
      (async (record) => ({
        id: record.messageId,
        body: JSON.parse(record.body) as WorkMessage,
        attributes: {},
        deliveryCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
        publishedAt: Date.now(),
        receipt: record.receiptHandle,
      })),
    close: async () => {
      await queue.close();
      await kv.close();
    },
  };
  const config = aatConfigSchema.parse({
    dataDir: "/nonexistent/aat-unit",
    plans: { directories: [] },
    auth: { mode: "apiKey", bootstrapAdminKey: ADMIN_KEY },
  });
  const runtime = await createLambdaRuntime({
    config,
    stores,
    logger: createLambdaLogger("debug", (line) => lines.push(line)),
  });
  return { runtime, lines };
}

function record(id: string, body: unknown, overrides: Partial<SQSRecord> = {}): SQSRecord {
  const base = fixture<SQSEvent>("sqs-event.json").Records[0]!;
  return { ...base, messageId: id, receiptHandle: `receipt-${id}`, body: JSON.stringify(body), ...overrides };
}

const opened: LambdaRuntime[] = [];
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close();
});

describe("SettlementTracker", () => {
  it("remembers acked and dead-lettered deliveries, not nacked ones", async () => {
    const queue = new MemoryQueue<WorkMessage>({ name: "settle" });
    const tracker = new SettlementTracker(queue);
    for (let index = 0; index < 3; index++)
      await tracker.publish({ ...timer, timerId: `t-${index}` } as WorkMessage);
    const [a, b, c] = await tracker.receive({ maxMessages: 3 });
    await tracker.ack(a!);
    await tracker.deadLetter(b!, "poison");
    await tracker.nack(c!, { delayMs: 1000 });
    expect(tracker.takeSettled(a!.receipt)).toBe(true);
    expect(tracker.takeSettled(a!.receipt)).toBe(false);
    expect(tracker.takeSettled(b!.receipt)).toBe(true);
    expect(tracker.takeSettled(c!.receipt)).toBe(false);
    expect(tracker.name).toBe("settle");
    await tracker.close();
  });
});

describe("worker handler", () => {
  it("refuses an event that is not an SQS event", async () => {
    const { runtime } = await memoryRuntime();
    opened.push(runtime);
    const worker = createWorkerHandler(async () => runtime);
    await expect(worker({ detail: {} }, lambdaContext())).rejects.toThrow(/not an SQS event/);
  });

  it("reports records the runner did not settle, and malformed ones, but not the settled ones", async () => {
    const { runtime, lines } = await memoryRuntime();
    opened.push(runtime);
    const settledIds = new Set(["ok-1"]);
    runtime.runner.handle = async (message: QueueMessage<WorkMessage>) => {
      if (settledIds.has(message.id)) await runtime.queue.ack(message).catch(() => undefined);
      if (message.id === "boom") throw new Error("store unavailable");
      return "executed";
    };
    // MemoryQueue does not know these receipts: ack fails there, so settle through the tracker's record.
    runtime.queue.ack = async (message) => {
      (runtime.queue as unknown as { settled: Set<string> }).settled.add(message.receipt);
    };
    const worker = createWorkerHandler(async () => runtime);
    const result = await worker(
      {
        Records: [
          record("ok-1", timer),
          record("left-for-later", timer),
          record("boom", timer),
          { ...record("broken", timer), body: 42 } as unknown as SQSRecord,
        ],
      },
      lambdaContext(),
    );
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual([
      "boom",
      "broken",
      "left-for-later",
    ]);
    expect(lines.some((line) => line.includes("malformed SQS record"))).toBe(true);
  });

  it("counts a record the adapter handled itself (decoded to nothing) as done, and a decode error as a failure", async () => {
    const { runtime } = await memoryRuntime(async (raw) => {
      if (raw.messageId === "unreadable") throw new Error("claim check object missing");
      return undefined;
    });
    opened.push(runtime);
    const worker = createWorkerHandler(async () => runtime);
    const result = await worker(
      { Records: [record("delayed", timer), record("unreadable", timer)] },
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "unreadable" }]);
  });

  it("on a FIFO queue stops at the first failure and reports it with every record after it", async () => {
    const { runtime } = await memoryRuntime();
    opened.push(runtime);
    const handled: string[] = [];
    runtime.runner.handle = async (message: QueueMessage<WorkMessage>) => {
      handled.push(message.id);
      if (message.id === "f-2") throw new Error("fails");
      (runtime.queue as unknown as { settled: Set<string> }).settled.add(message.receipt);
      return "executed";
    };
    const arn = "arn:aws:sqs:us-east-1:123456789012:steps.fifo";
    const worker = createWorkerHandler(async () => runtime);
    const result = await worker(
      { Records: ["f-1", "f-2", "f-3"].map((id) => record(id, timer, { eventSourceARN: arn })) },
      lambdaContext(),
    );
    expect(handled).toEqual(["f-1", "f-2"]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "f-2" }, { itemIdentifier: "f-3" }]);
  });
});

describe("http handler", () => {
  it("serves the core API from an API Gateway HTTP API v2 event, with the request id in the log", async () => {
    const { runtime, lines } = await memoryRuntime();
    opened.push(runtime);
    const http = createHttpHandler(async () => runtime);
    const health = await http(httpEvent("GET", "/healthz"), lambdaContext("req-health"));
    expect(health.statusCode).toBe(200);
    const denied = await http(httpEvent("GET", "/v1/plans"), lambdaContext());
    expect(denied.statusCode).toBe(401);
    const plans = await http(httpEvent("GET", "/v1/plans", { headers: auth }), lambdaContext());
    expect(plans.statusCode).toBe(200);
    expect(
      lines.some((line) => line.includes('"requestId":"req-health"') && line.includes('"status":200')),
    ).toBe(true);
  });

  it("answers 500 with the request id, and no details, when the runtime cannot be built", async () => {
    const http = createHttpHandler(async () => {
      throw new Error("table aat does not exist");
    });
    const response = await http(httpEvent("GET", "/healthz"), lambdaContext("req-broken"));
    expect(response.statusCode).toBe(500);
    expect(response.headers?.["x-request-id"]).toBe("req-broken");
    expect(response.body).not.toContain("table aat");
  });
});

describe("schedule handler", () => {
  it("checks the plans' schedules on an EventBridge scheduled event and refuses a wrong Input", async () => {
    const { runtime } = await memoryRuntime();
    opened.push(runtime);
    const schedule = createScheduleHandler(async () => runtime);
    expect(await schedule(fixture("scheduler-event.json"), lambdaContext())).toEqual({ fired: [] });
    await expect(schedule({ planId: "" }, lambdaContext())).rejects.toThrow(/the Input must be/);
  });
});

describe("sqsQueueName", () => {
  it("takes the name from the queue URL and refuses URLs without one", () => {
    expect(sqsQueueName("https://sqs.eu-west-1.amazonaws.com/123456789012/aat-steps", false)).toBe(
      "aat-steps",
    );
    expect(sqsQueueName("https://sqs.eu-west-1.amazonaws.com/123456789012/aat-steps.fifo", true)).toBe(
      "aat-steps",
    );
    expect(() => sqsQueueName("https://sqs.eu-west-1.amazonaws.com/", false)).toThrow(
      /does not end in an SQS queue name/,
    );
  });
});
