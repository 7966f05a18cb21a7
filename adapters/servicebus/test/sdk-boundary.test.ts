import type { ServiceBusMessage } from "@azure/service-bus";
import { afterEach, describe, expect, it } from "vitest";
import { PROPERTY, ServiceBusQueue } from "../src/index.js";
import { type Call, FakeServiceBus } from "../src/testing.js";

const sends = (bus: FakeServiceBus): ServiceBusMessage[] =>
  bus.calls.flatMap((call) => (call.op === "send" ? [call.message] : []));
const ofOp = <O extends Call["op"]>(bus: FakeServiceBus, op: O) =>
  bus.calls.filter((call): call is Extract<Call, { op: O }> => call.op === op);

describe("ServiceBusQueue at the SDK boundary", () => {
  const queues: ServiceBusQueue[] = [];
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close();
  });
  const open = (settings: ConstructorParameters<typeof FakeServiceBus>[0], sessions = false) => {
    const bus = new FakeServiceBus(settings);
    const queue = new ServiceBusQueue<{ step: string }>(bus, {
      name: "aat-steps",
      maxDeliveries: settings.maxDeliveryCount,
      sessions,
    });
    queues.push(queue as ServiceBusQueue);
    return { bus, queue };
  };

  it("sends the dedupe id as messageId (broker duplicate detection) and attributes as application properties", async () => {
    const { bus, queue } = open({ lockDurationMs: 30_000, maxDeliveryCount: 5 });
    const first = await queue.publish(
      { step: "a" },
      { dedupeId: "run-1/a/1", attributes: { traceparent: "00-abc-def-01" } },
    );
    await queue.publish({ step: "a" }, { dedupeId: "run-1/a/1" });
    const [sent] = sends(bus);
    expect(sent?.messageId).toBe("run-1/a/1");
    expect(sent?.contentType).toBe("application/json");
    expect(sent?.applicationProperties).toMatchObject({
      traceparent: "00-abc-def-01",
      [PROPERTY.dedupeId]: "run-1/a/1",
      [PROPERTY.id]: "run-1/a/1",
    });
    expect(first).toEqual({ messageId: "run-1/a/1", duplicate: false });
    expect(ofOp(bus, "dropped-duplicate")).toHaveLength(1);
    const received = await queue.receive({ maxMessages: 10, waitMs: 50 });
    expect(received.map((message) => message.attributes)).toEqual([{ traceparent: "00-abc-def-01" }]);
    await expect(
      queue.publish({ step: "x" }, { attributes: { [PROPERTY.priorDeliveries]: "1" } }),
    ).rejects.toThrow(/reserved/);
    // Over 128 characters (Service Bus's messageId limit): hashed, deterministically.
    await queue.publish({ step: "b" }, { dedupeId: "r".repeat(200) });
    expect(sends(bus).at(-1)?.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("schedules delayed messages with scheduledEnqueueTimeUtc", async () => {
    const { bus, queue } = open({ lockDurationMs: 30_000, maxDeliveryCount: 5 });
    const before = Date.now();
    await queue.publish({ step: "later" }, { delayMs: 60_000 });
    const at = sends(bus)[0]?.scheduledEnqueueTimeUtc?.getTime() ?? 0;
    expect(at).toBeGreaterThanOrEqual(before + 60_000);
    expect(await queue.receive({ waitMs: 30 })).toEqual([]);
    await queue.publish({ step: "now" });
    expect(sends(bus)[1]?.scheduledEnqueueTimeUtc).toBeUndefined();
  });

  it("puts one session per run on session queues and receives through acceptNextSession", async () => {
    const { bus, queue } = open({ lockDurationMs: 30_000, maxDeliveryCount: 5, sessions: true }, true);
    await queue.publish({ step: "a" }, { orderingKey: "run-1" });
    await queue.publish({ step: "b" }, { orderingKey: "run-1" });
    await queue.publish({ step: "c" }, { orderingKey: "run-2" });
    await queue.publish({ step: "d" });
    expect(sends(bus).map((message) => message.sessionId)).toEqual(["run-1", "run-1", "run-2", "aat"]);
    const first = await queue.receive({ maxMessages: 10, waitMs: 20 });
    expect(first.map((message) => message.body.step)).toEqual(["a", "b"]);
    // run-1's session stays locked while its steps are held: the next receive gets another session.
    const second = await queue.receive({ maxMessages: 10, waitMs: 20 });
    expect(second.map((message) => message.body.step)).toEqual(["c"]);
    for (const message of [...first, ...second]) await queue.ack(message);
    expect(ofOp(bus, "acceptNextSession").map((call) => call.sessionId)).toEqual(["run-1", "run-2"]);
  });

  it("dead-letters with a reason (first line) and the whole reason as description", async () => {
    const { bus, queue } = open({ lockDurationMs: 30_000, maxDeliveryCount: 5 });
    await queue.publish({ step: "bad" }, { dedupeId: "run-1/bad/1" });
    const [message] = await queue.receive({ waitMs: 50 });
    const reason = `invalid work message: step missing\n${"detail ".repeat(10)}`;
    await queue.deadLetter(message!, reason);
    const [call] = ofOp(bus, "deadLetter");
    expect(call?.options).toMatchObject({
      deadLetterReason: "invalid work message: step missing",
      deadLetterErrorDescription: reason,
    });
    expect(typeof call?.options[PROPERTY.deadAt]).toBe("number");
    const [letter] = await queue.listDeadLetters();
    expect(letter).toMatchObject({ id: "run-1/bad/1", reason, dedupeId: "run-1/bad/1", deliveryCount: 1 });
    expect(letter?.deadLetteredAt).toBeGreaterThan(0);
  });

  it("renews the message lock for a long step until the asked lease, and stops once settled", async () => {
    const { bus, queue } = open({ lockDurationMs: 400, maxDeliveryCount: 5 });
    await queue.publish({ step: "long" });
    const [message] = await queue.receive({ waitMs: 50 });
    await queue.extendLease(message!, 5_000);
    expect(ofOp(bus, "renewMessageLock").length).toBe(1);
    // Still held after several LockDurations: renewed in the background.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(ofOp(bus, "renewMessageLock").length).toBeGreaterThanOrEqual(2);
    expect(await queue.receive({ waitMs: 10 })).toEqual([]);
    await queue.ack(message!);
    const renewals = ofOp(bus, "renewMessageLock").length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ofOp(bus, "renewMessageLock").length).toBe(renewals);
    expect(ofOp(bus, "complete")).toHaveLength(1);
  });

  it("abandons a plain nack; a delayed nack sends a scheduled copy carrying the delivery count", async () => {
    const { bus, queue } = open({ lockDurationMs: 30_000, maxDeliveryCount: 5 });
    await queue.publish({ step: "retry" }, { dedupeId: "run-1/retry/1" });
    const [first] = await queue.receive({ waitMs: 50 });
    await queue.nack(first!);
    expect(ofOp(bus, "abandon")).toHaveLength(1);
    const [second] = await queue.receive({ waitMs: 50 });
    expect(second?.deliveryCount).toBe(2);
    await queue.nack(second!, { delayMs: 50 });
    const copy = sends(bus).at(-1);
    expect(copy?.messageId).toBe("run-1/retry/1:retry:2");
    expect(copy?.scheduledEnqueueTimeUtc).toBeInstanceOf(Date);
    expect(copy?.applicationProperties?.[PROPERTY.priorDeliveries]).toBe(2);
    const [third] = await queue.receive({ waitMs: 500 });
    expect(third).toMatchObject({ id: "run-1/retry/1", deliveryCount: 3, dedupeId: "run-1/retry/1" });
  });

  it("refuses a connection string that is not a Service Bus one, naming the expected shape", async () => {
    await expect(
      ServiceBusQueue.connect({ name: "aat-steps", connectionString: "redis://127.0.0.1" }),
    ).rejects.toThrow(/Endpoint=sb:\/\//);
  });
});
