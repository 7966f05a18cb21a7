import { ManualClock } from "@aat/core";
import { describe, expect, it } from "vitest";
import { MemoryQueue } from "../src/index.js";

describe("MemoryQueue on a manual clock", () => {
  it("keeps a delayed message back until the clock reaches its time", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ name: "q", clock });
    await queue.publish({ n: 1 }, { delayMs: 1000 });
    clock.advance(999);
    expect(await queue.receive()).toEqual([]);
    clock.advance(1);
    const [message] = await queue.receive();
    expect(message?.body).toEqual({ n: 1 });
    expect(message?.publishedAt).toBe(Date.UTC(2026, 0, 1));
    await queue.close();
  });

  it("redelivers when the lease ends and dead-letters after maxDeliveries", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ name: "q", clock, visibilityTimeoutMs: 100, maxDeliveries: 3 });
    await queue.publish("poison");
    for (const expected of [1, 2, 3]) {
      const [message] = await queue.receive();
      expect(message?.deliveryCount).toBe(expected);
      expect(await queue.receive()).toEqual([]);
      clock.advance(100);
    }
    expect(await queue.receive()).toEqual([]);
    const [letter] = await queue.listDeadLetters();
    expect(letter).toMatchObject({
      body: "poison",
      deliveryCount: 3,
      reason: "not acknowledged after 3 deliveries (maxDeliveries 3)",
    });
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("forgets a dedupeId once its window has passed", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ name: "q", clock, dedupeWindowMs: 1000 });
    const first = await queue.publish(1, { dedupeId: "d" });
    clock.advance(999);
    expect(await queue.publish(1, { dedupeId: "d" })).toEqual({
      messageId: first.messageId,
      duplicate: true,
    });
    clock.advance(1);
    expect((await queue.publish(1, { dedupeId: "d" })).duplicate).toBe(false);
    expect(queue.pendingCount).toBe(2);
    await queue.close();
  });
});

describe("MemoryQueue receipts", () => {
  it("ignores ack/nack from a holder whose lease was handed to someone else, and tells extendLease", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ name: "q", clock, visibilityTimeoutMs: 100 });
    await queue.publish("job");
    const [first] = await queue.receive();
    clock.advance(100);
    const [second] = await queue.receive();
    expect(second?.deliveryCount).toBe(2);

    await queue.ack(first!);
    await queue.nack(first!);
    await expect(queue.extendLease(first!, 1000)).rejects.toThrow(/no longer leased by this receipt/);
    expect(queue.pendingCount).toBe(1);
    await queue.ack(second!);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("still accepts an ack for a lapsed lease nobody else has taken", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue({ name: "q", clock, visibilityTimeoutMs: 100 });
    await queue.publish("job");
    const [message] = await queue.receive();
    clock.advance(500);
    await queue.ack(message!);
    expect(await queue.receive()).toEqual([]);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });
});

describe("MemoryQueue lifecycle and input checks", () => {
  it("resolves waiting receivers with nothing on close and refuses later calls", async () => {
    const queue = new MemoryQueue({ name: "q" });
    const waiting = queue.receive({ waitMs: 60_000 });
    await queue.close();
    expect(await waiting).toEqual([]);
    await expect(queue.publish(1)).rejects.toThrow(/MemoryQueue\("q"\)\.publish: the queue is closed/);
    await queue.close();
  });

  it("rejects bad options and inputs with the call and the reason", async () => {
    expect(() => new MemoryQueue({ name: "" })).toThrow(/MemoryQueue options are invalid[\s\S]*name/);
    expect(() => new MemoryQueue({ name: "q", visibilityTimeoutMs: -1 })).toThrow(/visibilityTimeoutMs/);
    const queue = new MemoryQueue({ name: "q" });
    await expect(queue.publish(undefined)).rejects.toThrow(/publish: the value is undefined/);
    await expect(queue.publish(1, { delayMs: -5 })).rejects.toThrow(
      /publish: expected a number of milliseconds/,
    );
    await expect(queue.publish(1, { attributes: { n: 1 as unknown as string } })).rejects.toThrow(
      /attribute "n" must be a string/,
    );
    await expect(queue.receive({ maxMessages: 0 })).rejects.toThrow(/maxMessages must be a positive integer/);
    await expect(queue.redrive("nope")).rejects.toThrow(/no dead letter with id "nope"/);
    await expect(queue.deadLetter({ id: "x", receipt: "y" } as never, "")).rejects.toThrow(/reason must be/);
    await queue.close();
  });

  it("delivers 10 000 messages once each through many lease cycles", async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue<number>({ name: "bulk", clock, visibilityTimeoutMs: 50 });
    for (let index = 0; index < 10_000; index++) await queue.publish(index);
    const seen = new Set<number>();
    for (let round = 0; round < 2000 && seen.size < 10_000; round++) {
      const batch = await queue.receive({ maxMessages: 10 });
      for (const message of batch) {
        // Every third message is dropped once, so its lease lapses and it comes back.
        if (message.body % 3 === 0 && message.deliveryCount === 1) continue;
        expect(seen.has(message.body)).toBe(false);
        seen.add(message.body);
        await queue.ack(message);
      }
      clock.advance(5);
    }
    expect(seen.size).toBe(10_000);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });
});
