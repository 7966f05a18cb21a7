import { ManualClock } from "@aat/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDatabase, SqliteQueue } from "../src/index.js";
import { makeTempDir } from "./temp-dir.js";

describe("SqliteQueue on a manual clock", () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = openSqlite(":memory:");
  });
  afterEach(() => db.close());

  it("keeps a delayed message back until the clock reaches its time", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock });
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
    const queue = new SqliteQueue(db, { name: "q", clock, visibilityTimeoutMs: 100, maxDeliveries: 3 });
    await queue.publish("poison", { dedupeId: "poison-1" });
    for (const expected of [1, 2, 3]) {
      const [message] = await queue.receive();
      expect(message?.deliveryCount).toBe(expected);
      expect(await queue.receive()).toEqual([]);
      clock.advance(100);
    }
    expect(await queue.receive()).toEqual([]);
    const [letter, ...others] = await queue.listDeadLetters();
    expect(others).toEqual([]);
    expect(letter).toMatchObject({
      body: "poison",
      dedupeId: "poison-1",
      deliveryCount: 3,
      reason: "not acknowledged after 3 deliveries (maxDeliveries 3)",
      deadLetteredAt: Date.UTC(2026, 0, 1) + 300,
    });
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("shows a message whose deliveries are used up as dead in listDeadLetters before any receive", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock, visibilityTimeoutMs: 100, maxDeliveries: 1 });
    await queue.publish("once");
    await queue.receive();
    expect(await queue.listDeadLetters()).toEqual([]);
    clock.advance(100);
    expect(
      (await queue.listDeadLetters()).map((letter) => [letter.body, letter.deliveryCount, letter.reason]),
    ).toEqual([["once", 1, "not acknowledged after 1 deliveries (maxDeliveries 1)"]]);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("dead-letters a nacked message that has used up its deliveries on the next receive", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock, maxDeliveries: 2 });
    await queue.publish("flaky");
    await queue.nack((await queue.receive())[0]!);
    const [second] = await queue.receive();
    expect(second?.deliveryCount).toBe(2);
    await queue.nack(second!);
    expect(await queue.receive({ maxMessages: 5 })).toEqual([]);
    expect((await queue.listDeadLetters()).map((letter) => letter.body)).toEqual(["flaky"]);
    await queue.close();
  });

  it("forgets a dedupeId once its window has passed, and purges it", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock, dedupeWindowMs: 1000, purgeIntervalMs: 0 });
    const first = await queue.publish(1, { dedupeId: "d" });
    clock.advance(999);
    expect(await queue.publish(1, { dedupeId: "d" })).toEqual({
      messageId: first.messageId,
      duplicate: true,
    });
    expect(queue.purgeExpired()).toBe(0);
    clock.advance(1);
    expect(queue.purgeExpired()).toBe(1);
    const third = await queue.publish(1, { dedupeId: "d" });
    expect(third.duplicate).toBe(false);
    clock.advance(1000);
    const fourth = await queue.publish(1, { dedupeId: "d" });
    expect(fourth.duplicate).toBe(false);
    expect(new Set([first.messageId, third.messageId, fourth.messageId]).size).toBe(3);
    expect(queue.pendingCount).toBe(3);
    await queue.close();
  });

  it("delivers again, after reopening, a message leased by a holder that closed without ack", async () => {
    const dir = makeTempDir("queue-reopen");
    try {
      const clock = new ManualClock();
      const file = dir.file("aat.db");
      const first = openSqlite(file);
      const holder = new SqliteQueue(first, { name: "steps", clock, visibilityTimeoutMs: 30_000 });
      const { messageId } = await holder.publish({ step: "enrich" });
      const [leased] = await holder.receive();
      expect(leased?.id).toBe(messageId);
      // The holder "dies": nothing is acked or released.
      await holder.close();
      first.close();

      const second = openSqlite(file);
      const restarted = new SqliteQueue(second, { name: "steps", clock, visibilityTimeoutMs: 30_000 });
      clock.advance(29_999);
      expect(await restarted.receive()).toEqual([]);
      clock.advance(1);
      const [again] = await restarted.receive();
      expect(again).toMatchObject({ id: messageId, body: { step: "enrich" }, deliveryCount: 2 });
      await restarted.ack(again!);
      expect(restarted.pendingCount).toBe(0);
      await restarted.close();
      second.close();
    } finally {
      dir.remove();
    }
  });
});

describe("SqliteQueue receipts", () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = openSqlite(":memory:");
  });
  afterEach(() => db.close());

  it("ignores ack/nack/deadLetter from a holder whose lease was handed to someone else, and tells extendLease", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock, visibilityTimeoutMs: 100 });
    await queue.publish("job");
    const [first] = await queue.receive();
    clock.advance(100);
    const [second] = await queue.receive();
    expect(second?.deliveryCount).toBe(2);
    expect(second?.receipt).not.toBe(first?.receipt);

    await queue.ack(first!);
    await queue.nack(first!);
    await queue.deadLetter(first!, "stale holder");
    await expect(queue.extendLease(first!, 1000)).rejects.toThrow(/no longer leased by this receipt/);
    expect(await queue.listDeadLetters()).toEqual([]);
    expect(queue.pendingCount).toBe(1);
    await queue.ack(second!);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("still accepts an ack or extension for a lapsed lease nobody else has taken", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue(db, { name: "q", clock, visibilityTimeoutMs: 100 });
    await queue.publish("job");
    const [message] = await queue.receive();
    clock.advance(500);
    await queue.extendLease(message!, 1000);
    clock.advance(999);
    expect(await queue.receive()).toEqual([]);
    await queue.ack(message!);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });

  it("ignores receipts it cannot have issued and deliveries of another queue", async () => {
    const jobs = new SqliteQueue(db, { name: "jobs" });
    const other = new SqliteQueue(db, { name: "other" });
    await jobs.publish("job");
    const [message] = await jobs.receive();
    await other.ack(message!);
    await jobs.ack({ ...message!, receipt: "garbage" });
    await expect(jobs.extendLease({ ...message!, receipt: "garbage" }, 10)).rejects.toThrow(
      /no longer leased/,
    );
    await expect(jobs.ack({ id: 1 } as never)).rejects.toThrow(/pass a message returned by receive\(\)/);
    expect(jobs.pendingCount).toBe(1);
    await jobs.ack(message!);
    expect(jobs.pendingCount).toBe(0);
    await jobs.close();
    await other.close();
  });
});

describe("SqliteQueue sharing a file", () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    dir = makeTempDir("queue");
  });
  afterEach(() => dir.remove());

  it("keeps named queues apart in one file, dead letters included", async () => {
    const db = openSqlite(dir.file("aat.db"));
    const steps = new SqliteQueue(db, { name: "steps" });
    const timers = new SqliteQueue(db, { name: "timers" });
    await steps.publish("s1", { dedupeId: "same" });
    await timers.publish("t1", { dedupeId: "same" });
    expect((await steps.receive({ maxMessages: 10 })).map((message) => message.body)).toEqual(["s1"]);
    const [timer] = await timers.receive({ maxMessages: 10 });
    expect(timer?.body).toBe("t1");
    await timers.deadLetter(timer!, "late");
    expect(await steps.listDeadLetters()).toEqual([]);
    expect((await timers.listDeadLetters()).map((letter) => letter.body)).toEqual(["t1"]);
    await expect(steps.redrive((await timers.listDeadLetters())[0]!.id)).rejects.toThrow(
      /no dead letter with id/,
    );
    await steps.close();
    await timers.close();
    db.close();
  });

  it("never delivers a leased message to a second handle on the same file", async () => {
    const one = openSqlite(dir.file("aat.db"));
    const two = openSqlite(dir.file("aat.db"));
    const consumers = [new SqliteQueue(one, { name: "work" }), new SqliteQueue(two, { name: "work" })];
    const published = new Set<string>();
    for (let index = 0; index < 100; index++) {
      published.add((await consumers[index % 2]!.publish({ index })).messageId);
    }
    // Nothing is acked: every message stays leased, so a second delivery would be a double hand-out.
    const delivered: string[] = [];
    for (let round = 0; round < 40; round++) {
      const batches = await Promise.all(consumers.map((queue) => queue.receive({ maxMessages: 3 })));
      delivered.push(...batches.flat().map((message) => message.id));
    }
    expect(delivered).toHaveLength(100);
    expect(new Set(delivered)).toEqual(published);
    expect(await consumers[0]!.receive({ maxMessages: 10 })).toEqual([]);
    for (const queue of consumers) await queue.close();
    one.close();
    two.close();
  });

  it("wakes a waiting receive on one handle when another handle in this process publishes", async () => {
    const one = openSqlite(dir.file("aat.db"));
    const two = openSqlite(dir.file("aat.db"));
    // A poll interval far beyond the test timeout: only the in-process notification can wake it.
    const waiting = new SqliteQueue(one, { name: "inbox", pollIntervalMs: 3_600_000 });
    const publisher = new SqliteQueue(two, { name: "inbox" });
    const pending = waiting.receive({ waitMs: 3_600_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await publisher.publish({ hello: "there" });
    expect((await pending).map((message) => message.body)).toEqual([{ hello: "there" }]);
    await waiting.close();
    await publisher.close();
    one.close();
    two.close();
  });

  it("resolves a waiting receive with [] when the queue is closed", async () => {
    const db = openSqlite(dir.file("aat.db"));
    const queue = new SqliteQueue(db, { name: "inbox", pollIntervalMs: 3_600_000 });
    const pending = queue.receive({ waitMs: 3_600_000 });
    await queue.close();
    expect(await pending).toEqual([]);
    await expect(queue.receive()).rejects.toThrow('SqliteQueue("inbox").receive: the queue is closed');
    db.close();
  });
});

describe("SqliteQueue bad data and bad input", () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = openSqlite(":memory:");
  });
  afterEach(() => db.close());

  it("names the message, queue and file when a stored body is not JSON", async () => {
    const queue = new SqliteQueue(db, { name: "q" });
    const { messageId } = await queue.publish({ fine: true });
    db.connection.prepare("UPDATE queue_messages SET body = 'nope{' WHERE id = ?").run(messageId);
    await expect(queue.receive()).rejects.toThrow(
      new RegExp(`SqliteQueue\\("q"\\): the body of message ${messageId} \\(:memory:\\) is not valid JSON`),
    );
    await queue.close();
  });

  it("rejects bad options and arguments with what to change", async () => {
    expect(() => new SqliteQueue(db, { name: "" })).toThrow(/SqliteQueue options are invalid[\s\S]*name/);
    expect(() => new SqliteQueue(db, { name: "q", visibilityTimeoutMs: 0 })).toThrow(/visibilityTimeoutMs/);
    expect(() => new SqliteQueue(db, { name: "q", lease: 5 } as never)).toThrow(/lease/);
    const queue = new SqliteQueue(db, { name: "q" });
    await expect(queue.publish(undefined)).rejects.toThrow(/JSON cannot represent/);
    await expect(queue.publish(1, { delayMs: -1 })).rejects.toThrow(/expected a number of milliseconds >= 0/);
    await expect(queue.publish(1, { attributes: { n: 1 as unknown as string } })).rejects.toThrow(
      /attribute "n" must be a string/,
    );
    await expect(queue.publish(1, { dedupeId: "" })).rejects.toThrow(/dedupeId must be a non-empty string/);
    await expect(queue.receive({ maxMessages: 0 })).rejects.toThrow(/maxMessages must be a positive integer/);
    await expect(queue.listDeadLetters({ limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
    await expect(queue.redrive("missing")).rejects.toThrow(/no dead letter with id "missing"/);
    expect(queue.pendingCount).toBe(0);
    await queue.close();
  });
});
