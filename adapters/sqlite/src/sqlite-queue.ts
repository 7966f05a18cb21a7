import { randomBytes, randomUUID } from "node:crypto";
import {
  type Clock,
  type DeadLetter,
  type MessageAttributes,
  type PublishOptions,
  type PublishResult,
  type Queue,
  type QueueMessage,
  queueOptionFields,
  type ReceiveOptions,
  systemClock,
  toStoredJson,
} from "@aat/core";
import type Database from "better-sqlite3";
import { z } from "zod";
import { clockSchema, isWellFormed, parseOptions } from "./options.js";
import type { SqliteDatabase } from "./sqlite-database.js";
import { fromStoredJson } from "./stored-json.js";

const optionsSchema = z
  .object({
    name: z
      .string()
      .min(1, "name must be a non-empty string")
      .refine(isWellFormed, "name must not contain lone UTF-16 surrogates"),
    ...queueOptionFields,
    clock: z.optional(clockSchema),
    /** How often a waiting receive looks for messages published by other processes (default 100 ms). */
    pollIntervalMs: z.number().int().positive().optional(),
    /** How often expired dedupe ids are deleted (default 60 s; 0: only when `purgeExpired()` is called). */
    purgeIntervalMs: z.number().int().nonnegative().optional(),
  })
  .strict();

export type SqliteQueueOptions = z.input<typeof optionsSchema>;

const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 100;
const DEFAULT_PURGE_INTERVAL_MS = 60_000;
const DEFAULT_DEAD_LETTER_LIMIT = 100;
const PURGE_BATCH = 500;

interface MessageRow {
  seq: number;
  id: string;
  body: string;
  attributes: string;
  dedupe_id: string | null;
  published_at: number;
  delivery_count: number;
  receipt: string;
}

interface DeadLetterRow {
  id: string;
  body: string;
  attributes: string;
  dedupe_id: string | null;
  delivery_count: number;
  reason: string;
  dead_lettered_at: number;
}

const exhaustedReason = (deliveries: number, maxDeliveries: number) =>
  `not acknowledged after ${deliveries} deliveries (maxDeliveries ${maxDeliveries})`;

/**
 * Queue on the `queue_messages` table of an SQLite file; several named queues share one file. A message
 * is leased by writing its lease end into `visible_at` and a fresh receipt, all in one IMMEDIATE
 * transaction, so two connections (or processes) never lease the same message at once. A lease that
 * ends without ack makes the message visible again by time alone: a process that died holding it needs
 * no cleanup.
 */
export class SqliteQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  private readonly db: SqliteDatabase;
  private readonly clock: Clock;
  private readonly visibilityTimeoutMs: number;
  private readonly dedupeWindowMs: number;
  private readonly pollIntervalMs: number;
  /** Random per instance so receipts from different processes never coincide. */
  private readonly receiptPrefix = `${randomBytes(6).toString("base64url")}.`;
  private receiveCounter = 0;
  private readonly insertMessage: Database.Statement<
    [string, string, string, string, string | null, number, number]
  >;
  private readonly leaseVisible: Database.Statement<[string, number, string, number, number], MessageRow>;
  private readonly deleteLeased: Database.Statement<[number, string, string]>;
  private readonly releaseLeased: Database.Statement<[number, number, string, string]>;
  private readonly extendLeased: Database.Statement<[number, number, string, string]>;
  private readonly nextVisibleAt: Database.Statement<[string, number], { at: number | null }>;
  private readonly publishWithDedupe: (
    id: string,
    bodyJson: string,
    attributesJson: string,
    dedupeId: string,
    visibleAt: number,
    now: number,
  ) => PublishResult;
  private readonly leaseUpTo: (maxMessages: number) => MessageRow[];
  private readonly deadLetterLeased: (seq: number, receipt: string, reason: string) => void;
  private readonly sweepAndListDeadLetters: (limit: number) => DeadLetterRow[];
  private readonly redriveInTransaction: (deadLetterId: string) => boolean;
  private readonly stopListening: () => void;
  /** Resolvers of waiting receives, called when a message may have become available. */
  private readonly sleepers = new Set<() => void>();
  private purgeTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(db: SqliteDatabase, options: SqliteQueueOptions) {
    if (typeof db?.statement !== "function") {
      throw new TypeError("SqliteQueue: the first argument must be a database from openSqlite()");
    }
    const settings = parseOptions(optionsSchema, options, "SqliteQueue");
    this.db = db;
    this.name = settings.name;
    this.clock = settings.clock ?? systemClock;
    this.visibilityTimeoutMs = settings.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    this.maxDeliveries = settings.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.dedupeWindowMs = settings.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.pollIntervalMs = settings.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;

    this.insertMessage = db.statement(
      `INSERT INTO queue_messages
         (id, queue, body, attributes, dedupe_id, published_at, visible_at, delivery_count, receipt)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
    );
    // Receipt: "<seq>.<instance>.<receive>.<delivery>", unique per delivery; ack finds the row by seq.
    // SET expressions see the old row, hence delivery_count + 1.
    this.leaseVisible = db.statement(
      `UPDATE queue_messages
         SET delivery_count = delivery_count + 1, receipt = seq || ? || (delivery_count + 1), visible_at = ?
       WHERE seq IN (SELECT seq FROM queue_messages WHERE queue = ? AND visible_at <= ?
                     ORDER BY visible_at, seq LIMIT ?)
       RETURNING seq, id, body, attributes, dedupe_id, published_at, delivery_count, receipt`,
    );
    this.deleteLeased = db.statement(
      "DELETE FROM queue_messages WHERE seq = ? AND queue = ? AND receipt = ?",
    );
    this.releaseLeased = db.statement(
      "UPDATE queue_messages SET visible_at = ?, receipt = NULL WHERE seq = ? AND queue = ? AND receipt = ?",
    );
    this.extendLeased = db.statement(
      "UPDATE queue_messages SET visible_at = ? WHERE seq = ? AND queue = ? AND receipt = ?",
    );
    this.nextVisibleAt = db.statement(
      "SELECT MIN(visible_at) AS at FROM queue_messages WHERE queue = ? AND visible_at > ?",
    );

    const claimDedupeId = db.statement<[string, string, string, number, number], { message_id: string }>(
      `INSERT INTO queue_dedupe (queue, dedupe_id, message_id, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (queue, dedupe_id) DO UPDATE SET
         message_id = excluded.message_id, expires_at = excluded.expires_at
         WHERE queue_dedupe.expires_at <= ?
       RETURNING message_id`,
    );
    const selectDedupe = db.statement<[string, string], { message_id: string }>(
      "SELECT message_id FROM queue_dedupe WHERE queue = ? AND dedupe_id = ?",
    );
    this.publishWithDedupe = db.immediate((id, bodyJson, attributesJson, dedupeId, visibleAt, now) => {
      const claimed = claimDedupeId.get(this.name, dedupeId, id, now + this.dedupeWindowMs, now);
      if (claimed === undefined) {
        return { messageId: selectDedupe.get(this.name, dedupeId)!.message_id, duplicate: true };
      }
      this.insertMessage.run(id, this.name, bodyJson, attributesJson, dedupeId, now, visibleAt);
      return { messageId: id, duplicate: false };
    });

    const moveToDeadLetters = db.statement<[number, string, number, number]>(
      `INSERT INTO queue_dead_letters
         (id, queue, body, attributes, dedupe_id, delivery_count, reason, dead_lettered_at)
       SELECT id, queue, body, attributes, dedupe_id, delivery_count - ?, ?, ? FROM queue_messages WHERE seq = ?`,
    );
    const deleteMessage = db.statement<[number]>("DELETE FROM queue_messages WHERE seq = ?");
    this.leaseUpTo = db.immediate((maxMessages: number) => {
      const now = this.clock.now();
      const receipt = `.${this.receiptPrefix}${(++this.receiveCounter).toString(36)}.`;
      const leased: MessageRow[] = [];
      while (leased.length < maxMessages) {
        const rows = this.leaseVisible.all(
          receipt,
          now + this.visibilityTimeoutMs,
          this.name,
          now,
          maxMessages - leased.length,
        );
        if (rows.length === 0) break;
        for (const row of rows) {
          if (row.delivery_count <= this.maxDeliveries) {
            leased.push(row);
            continue;
          }
          // This delivery would exceed maxDeliveries: the message goes to the dead letters instead.
          const deliveries = row.delivery_count - 1;
          moveToDeadLetters.run(1, exhaustedReason(deliveries, this.maxDeliveries), now, row.seq);
          deleteMessage.run(row.seq);
        }
      }
      return leased;
    });

    const isLeasedBy = db.statement<[number, string, string], { seq: number }>(
      "SELECT seq FROM queue_messages WHERE seq = ? AND queue = ? AND receipt = ?",
    );
    this.deadLetterLeased = db.immediate((seq: number, receipt: string, reason: string) => {
      if (isLeasedBy.get(seq, this.name, receipt) === undefined) return;
      moveToDeadLetters.run(0, reason, this.clock.now(), seq);
      deleteMessage.run(seq);
    });

    const sweepExhausted = db.statement<[string, number, string, number, number]>(
      `INSERT INTO queue_dead_letters
         (id, queue, body, attributes, dedupe_id, delivery_count, reason, dead_lettered_at)
       SELECT id, queue, body, attributes, dedupe_id, delivery_count,
              'not acknowledged after ' || delivery_count || ' deliveries (maxDeliveries ' || ? || ')', ?
       FROM queue_messages WHERE queue = ? AND visible_at <= ? AND delivery_count >= ?`,
    );
    const deleteExhausted = db.statement<[string, number, number]>(
      "DELETE FROM queue_messages WHERE queue = ? AND visible_at <= ? AND delivery_count >= ?",
    );
    const selectDeadLetters = db.statement<[string, number], DeadLetterRow>(
      `SELECT id, body, attributes, dedupe_id, delivery_count, reason, dead_lettered_at
       FROM queue_dead_letters WHERE queue = ? ORDER BY dead_lettered_at, rowid LIMIT ?`,
    );
    this.sweepAndListDeadLetters = db.immediate((limit: number) => {
      // Messages whose next delivery would exceed maxDeliveries are shown as dead now, as receive would.
      const now = this.clock.now();
      sweepExhausted.run(String(this.maxDeliveries), now, this.name, now, this.maxDeliveries);
      deleteExhausted.run(this.name, now, this.maxDeliveries);
      return selectDeadLetters.all(this.name, limit);
    });

    const selectDeadLetter = db.statement<[string, string], DeadLetterRow>(
      `SELECT id, body, attributes, dedupe_id, delivery_count, reason, dead_lettered_at
       FROM queue_dead_letters WHERE id = ? AND queue = ?`,
    );
    const deleteDeadLetter = db.statement<[string]>("DELETE FROM queue_dead_letters WHERE id = ?");
    this.redriveInTransaction = db.immediate((deadLetterId: string) => {
      const letter = selectDeadLetter.get(deadLetterId, this.name);
      if (letter === undefined) return false;
      const now = this.clock.now();
      // Same id, fresh delivery count; the dedupe window is bypassed on purpose (a redrive is not a duplicate).
      this.insertMessage.run(
        letter.id,
        this.name,
        letter.body,
        letter.attributes,
        letter.dedupe_id,
        now,
        now,
      );
      deleteDeadLetter.run(letter.id);
      return true;
    });

    this.stopListening = db.onMessage(this.name, () => this.wakeSleepers());
    const purgeIntervalMs = settings.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    if (purgeIntervalMs > 0) {
      this.purgeTimer = setInterval(() => this.purgeInBackground(), purgeIntervalMs);
      this.purgeTimer.unref();
    }
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen("publish");
    const where = `SqliteQueue("${this.name}").publish`;
    const bodyJson = toStoredJson(body, where);
    const delayMs = checkDelay(options.delayMs, where);
    const attributesJson = JSON.stringify(copyAttributes(options.attributes, where));
    const dedupeId = options.dedupeId;
    const id = randomUUID();
    let result: PublishResult;
    if (dedupeId === undefined) {
      result = await this.db.write(() => {
        const now = this.clock.now();
        this.insertMessage.run(id, this.name, bodyJson, attributesJson, null, now, now + delayMs);
        return { messageId: id, duplicate: false };
      });
    } else {
      if (typeof dedupeId !== "string" || dedupeId.length === 0 || !isWellFormed(dedupeId)) {
        throw new TypeError(
          `${where}: dedupeId must be a non-empty string of well-formed Unicode, got ${JSON.stringify(dedupeId)}`,
        );
      }
      result = await this.db.write(() => {
        const now = this.clock.now();
        return this.publishWithDedupe(id, bodyJson, attributesJson, dedupeId, now + delayMs, now);
      });
    }
    // Delayed messages wake waiters too, so they can sleep until the delay ends instead of a full poll.
    if (!result.duplicate) this.db.notifyMessage(this.name);
    return result;
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    this.assertOpen("receive");
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
      throw new TypeError(
        `SqliteQueue("${this.name}").receive: maxMessages must be a positive integer, got ${String(maxMessages)}`,
      );
    }
    const waitMs = checkDelay(options.waitMs, `SqliteQueue("${this.name}").receive (waitMs)`);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const taken = await this.take(maxMessages);
      if (taken.length > 0) return taken;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) return [];
      await this.sleep(Math.min(remaining, this.pollIntervalMs, this.msUntilNextVisible()));
      if (this.closed) return [];
    }
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    this.assertOpen("ack");
    const seq = deliverySeq(message, this.name);
    if (seq !== undefined) await this.db.write(() => this.deleteLeased.run(seq, this.name, message.receipt));
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    this.assertOpen("nack");
    const delayMs = checkDelay(options.delayMs, `SqliteQueue("${this.name}").nack`);
    const seq = deliverySeq(message, this.name);
    if (seq === undefined) return;
    const changed = await this.db.write(() =>
      this.releaseLeased.run(this.clock.now() + delayMs, seq, this.name, message.receipt),
    );
    if (changed.changes > 0) this.db.notifyMessage(this.name);
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    this.assertOpen("extendLease");
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(
        `SqliteQueue("${this.name}").extendLease: ms must be a positive number of milliseconds, got ${String(ms)}`,
      );
    }
    const seq = deliverySeq(message, this.name);
    // A lease that lapsed but was not yet handed to anyone else can still be extended, like ack.
    const changed =
      seq === undefined
        ? 0
        : await this.db.write(
            () => this.extendLeased.run(this.clock.now() + ms, seq, this.name, message.receipt).changes,
          );
    if (changed === 0) {
      throw new Error(
        `SqliteQueue("${this.name}").extendLease: message ${message.id} is no longer leased by this receipt ` +
          "(it was acked, nacked, or its lease ended and it may have been delivered again); stop working on it",
      );
    }
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    this.assertOpen("deadLetter");
    if (typeof reason !== "string" || reason.length === 0) {
      throw new TypeError(`SqliteQueue("${this.name}").deadLetter: reason must be a non-empty string`);
    }
    const seq = deliverySeq(message, this.name);
    if (seq !== undefined) await this.db.write(() => this.deadLetterLeased(seq, message.receipt, reason));
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen("listDeadLetters");
    const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TypeError(
        `SqliteQueue("${this.name}").listDeadLetters: limit must be a positive integer, got ${String(limit)}`,
      );
    }
    const rows = await this.db.write(() => this.sweepAndListDeadLetters(limit));
    return rows.map((row) => ({
      id: row.id,
      body: this.parse<T>(row.body, `the body of dead letter ${row.id}`),
      attributes: this.parse<MessageAttributes>(row.attributes, `the attributes of dead letter ${row.id}`),
      ...(row.dedupe_id !== null ? { dedupeId: row.dedupe_id } : {}),
      deliveryCount: row.delivery_count,
      reason: row.reason,
      deadLetteredAt: row.dead_lettered_at,
    }));
  }

  async redrive(deadLetterId: string): Promise<void> {
    this.assertOpen("redrive");
    const found =
      typeof deadLetterId === "string" &&
      (await this.db.write(() => this.redriveInTransaction(deadLetterId)));
    if (!found) {
      throw new Error(
        `SqliteQueue("${this.name}").redrive: no dead letter with id ${JSON.stringify(deadLetterId)}; ` +
          "take the id from listDeadLetters()",
      );
    }
    this.db.notifyMessage(this.name);
  }

  async ping(): Promise<void> {
    this.assertOpen("ping");
    this.db.statement("SELECT 1").get();
  }

  async depth(): Promise<number> {
    return this.pendingCount;
  }

  /** Stops timers and resolves waiting receives with []. Messages stay in the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
    this.wakeSleepers();
  }

  /** Messages of this queue not yet acked or dead-lettered (ready, delayed or leased); for tests and diagnostics. */
  get pendingCount(): number {
    this.assertOpen("pendingCount");
    return this.db
      .statement<[string], { count: number }>("SELECT COUNT(*) AS count FROM queue_messages WHERE queue = ?")
      .get(this.name)!.count;
  }

  /**
   * Deletes dedupe ids whose window has passed, for every queue in the file (a timer does this every
   * `purgeIntervalMs`); returns how many. Expired ids never suppress a publish; purging reclaims space.
   */
  purgeExpired(): number {
    this.assertOpen("purgeExpired");
    const purge = this.db.statement<[number, number]>(
      `DELETE FROM queue_dedupe WHERE (queue, dedupe_id) IN
         (SELECT queue, dedupe_id FROM queue_dedupe WHERE expires_at <= ? LIMIT ?)`,
    );
    const now = this.clock.now();
    let total = 0;
    for (;;) {
      const deleted = purge.run(now, PURGE_BATCH).changes;
      total += deleted;
      if (deleted < PURGE_BATCH) return total;
    }
  }

  private async take(maxMessages: number): Promise<Array<QueueMessage<T>>> {
    const rows = await this.db.write(() => this.leaseUpTo(maxMessages));
    return rows.map((row) => ({
      id: row.id,
      body: this.parse<T>(row.body, `the body of message ${row.id}`),
      attributes: this.parse<MessageAttributes>(row.attributes, `the attributes of message ${row.id}`),
      ...(row.dedupe_id !== null ? { dedupeId: row.dedupe_id } : {}),
      deliveryCount: row.delivery_count,
      publishedAt: row.published_at,
      receipt: row.receipt,
    }));
  }

  /** Milliseconds (on the queue's clock) until the next delay or lease ends; the poll interval if none. */
  private msUntilNextVisible(): number {
    const now = this.clock.now();
    const at = this.nextVisibleAt.get(this.name, now)?.at;
    return at === null || at === undefined ? this.pollIntervalMs : Math.max(1, at - now);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeSleepers(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private purgeInBackground(): void {
    if (this.closed || !this.db.isOpen) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = undefined;
      return;
    }
    try {
      this.purgeExpired();
    } catch {
      // A busy file: the next tick tries again, and expired ids are ignored by publish anyway.
    }
  }

  private parse<V>(json: string, what: string): V {
    return fromStoredJson<V>(json, () => `SqliteQueue("${this.name}"): ${what} (${this.db.location})`);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`SqliteQueue("${this.name}").${operation}: the queue is closed`);
    if (!this.db.isOpen) {
      throw new Error(`SqliteQueue("${this.name}").${operation}: the database ${this.db.location} is closed`);
    }
  }
}

/** The row a delivery's receipt points at; undefined for a receipt this adapter cannot have issued. */
function deliverySeq<T>(message: QueueMessage<T>, queueName: string): number | undefined {
  if (!message || typeof message.id !== "string" || typeof message.receipt !== "string") {
    throw new TypeError(`SqliteQueue("${queueName}"): pass a message returned by receive()`);
  }
  const dot = message.receipt.indexOf(".");
  const seq = Number(message.receipt.slice(0, dot));
  return dot > 0 && Number.isSafeInteger(seq) ? seq : undefined;
}

function checkDelay(value: number | undefined, where: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: expected a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function copyAttributes(attributes: MessageAttributes | undefined, where: string): MessageAttributes {
  const copy: MessageAttributes = {};
  if (attributes === undefined) return copy;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new TypeError(`${where}: attributes must be an object of string values`);
  }
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== "string") {
      throw new TypeError(`${where}: attribute ${JSON.stringify(key)} must be a string, got ${typeof value}`);
    }
    copy[key] = value;
  }
  return copy;
}
