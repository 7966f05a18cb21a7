import { MemoryQueue } from "@aat/adapter-memory";
import type { QueueMessage, WorkMessage } from "@aat/core";
import { describe, expect, it } from "vitest";
import { PushedDeliveryQueue } from "../src/index.js";

const body = { kind: "timer", runId: "run-1", timerId: "t-1" } as WorkMessage;

function pushed(queue: PushedDeliveryQueue, id = "m-1"): QueueMessage<WorkMessage> {
  return { id, body, attributes: {}, deliveryCount: 1, publishedAt: 0, receipt: queue.newReceipt() };
}

describe("PushedDeliveryQueue (Pub/Sub push, Service Bus trigger, Knative CloudEvents)", () => {
  it("records the Runner's ack, nack and dead letter of a pushed delivery instead of sending them, once each", async () => {
    const inner = new MemoryQueue<WorkMessage>({ name: "pushed-unit" });
    const queue = new PushedDeliveryQueue(inner, { receiptPrefix: "unit:" });
    const [a, b, c] = [pushed(queue, "a"), pushed(queue, "b"), pushed(queue, "c")];
    expect(a.receipt).toMatch(/^unit:[0-9a-f-]{36}$/);
    expect(a.receipt).not.toBe(b.receipt);
    await queue.ack(a);
    await queue.nack(b, { delayMs: 5_000 });
    await queue.deadLetter(c, "bad input");
    await queue.extendLease(a, 60_000);
    expect(queue.takeSettled(a.receipt)).toEqual({ kind: "ack" });
    expect(queue.takeSettled(b.receipt)).toEqual({ kind: "retry", delayMs: 5_000 });
    expect(queue.takeSettled(c.receipt)).toEqual({ kind: "deadLetter", reason: "bad input" });
    // Taken once: a second read finds nothing (the map does not grow with every request).
    expect(queue.takeSettled(a.receipt)).toBeUndefined();
    expect(queue.takeSettled(pushed(queue).receipt)).toBeUndefined();
    // Nothing reached the queue itself.
    expect(await inner.listDeadLetters()).toEqual([]);
    await queue.close();
  });

  it("lets a target put a dead letter somewhere itself and record another settlement", async () => {
    const inner = new MemoryQueue<WorkMessage>({ name: "pushed-unit-dead" });
    const written: string[] = [];
    const queue = new PushedDeliveryQueue(inner, {
      receiptPrefix: "push:",
      deadLetter: async (message, reason) => {
        written.push(`${message.id}: ${reason}`);
        return { kind: "ack" };
      },
    });
    const message = pushed(queue, "d");
    await queue.deadLetter(message, "unknown plan");
    expect(written).toEqual(["d: unknown plan"]);
    expect(queue.takeSettled(message.receipt)).toEqual({ kind: "ack" });
    await queue.close();
  });

  it("passes publishing and deliveries the queue received itself straight through", async () => {
    const inner = new MemoryQueue<WorkMessage>({ name: "pushed-unit-pull" });
    const queue = new PushedDeliveryQueue(inner, { receiptPrefix: "trigger:" });
    await queue.publish(body);
    const [received] = await queue.receive({ waitMs: 0 });
    expect(received && queue.isPushed(received)).toBe(false);
    await queue.deadLetter(received!, "given up");
    expect(queue.takeSettled(received!.receipt)).toBeUndefined();
    const letters = await queue.listDeadLetters();
    expect(letters.map((letter) => letter.reason)).toEqual(["given up"]);
    expect(queue.name).toBe("pushed-unit-pull");
    expect(queue.maxDeliveries).toBe(inner.maxDeliveries);
    await queue.close();
  });
});
