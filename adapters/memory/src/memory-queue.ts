import {
  type Clock,
  clockSchema,
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
} from "@aat/core/ports";
import { z } from "zod";
import { MinHeap } from "./min-heap.js";
import { fromStoredJson } from "./stored-json.js";

const optionsSchema = z
  .object({
    name: z.string().min(1, "name must be a non-empty string"),
    ...queueOptionFields,
    clock: z.optional(clockSchema),
  })
  .strict();

export type MemoryQueueOptions = z.input<typeof optionsSchema>;

type MessageState = "ready" | "scheduled" | "leased";

interface StoredMessage {
  id: string;
  bodyJson: string;
  attributes: MessageAttributes;
  dedupeId: string | undefined;
  publishedAt: number;
  deliveryCount: number;
  state: MessageState;
  /** Bumped on every state change; queue and heap entries carrying an older token are stale. */
  token: number;
  /** Receipt of the current delivery while leased. */
  receipt: string | undefined;
}

interface StoredDeadLetter extends Omit<DeadLetter, "body"> {
  bodyJson: string;
}

interface ReadyEntry {
  id: string;
  token: number;
}

interface Waiter {
  maxMessages: number;
  resolve: (messages: QueueMessage[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000;
const DEFAULT_DEAD_LETTER_LIMIT = 100;

let instanceCounter = 0;

/**
 * In-process Queue with the full port semantics: leases that lapse into redelivery, delays, a dedupe
 * window, dead letters after `maxDeliveries`, and long-poll receive. Time-based transitions are
 * evaluated lazily against the injected clock; a single timer wakes waiting receivers when the
 * earliest delay or lease ends. `close()` clears every timer.
 */
export class MemoryQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  readonly visibilityTimeoutMs: number;
  private readonly dedupeWindowMs: number;
  private readonly clock: Clock;
  private readonly messages = new Map<string, StoredMessage>();
  private ready: ReadyEntry[] = [];
  private readyHead = 0;
  private readonly timed = new MinHeap();
  /** dedupeId → first message; insertion order is publish order, so expiry trims from the front. */
  private readonly dedupeIds = new Map<string, { messageId: string; until: number }>();
  private readonly deadLetters = new Map<string, StoredDeadLetter>();
  private readonly waiters: Waiter[] = [];
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private readonly idPrefix: string;
  private sequence = 0;
  private closed = false;

  constructor(options: MemoryQueueOptions) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new TypeError(`MemoryQueue options are invalid: ${z.prettifyError(parsed.error)}`);
    }
    this.name = parsed.data.name;
    this.visibilityTimeoutMs = parsed.data.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    this.maxDeliveries = parsed.data.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.dedupeWindowMs = parsed.data.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.clock = parsed.data.clock ?? systemClock;
    this.idPrefix = `${(++instanceCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}-`;
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen("publish");
    const bodyJson = toStoredJson(body, `MemoryQueue("${this.name}").publish`);
    const delayMs = checkDelay(options.delayMs, `MemoryQueue("${this.name}").publish`);
    const attributes = copyAttributes(options.attributes, this.name);
    const dedupeId = options.dedupeId;
    const now = this.clock.now();
    if (dedupeId !== undefined) {
      if (typeof dedupeId !== "string" || dedupeId.length === 0) {
        throw new TypeError(`MemoryQueue("${this.name}").publish: dedupeId must be a non-empty string`);
      }
      this.forgetExpiredDedupeIds(now);
      const seen = this.dedupeIds.get(dedupeId);
      if (seen) return { messageId: seen.messageId, duplicate: true };
    }
    const id = this.idPrefix + (++this.sequence).toString(36);
    if (dedupeId !== undefined)
      this.dedupeIds.set(dedupeId, { messageId: id, until: now + this.dedupeWindowMs });
    const message: StoredMessage = {
      id,
      bodyJson,
      attributes,
      dedupeId,
      publishedAt: now,
      deliveryCount: 0,
      state: "ready",
      token: 0,
      receipt: undefined,
    };
    this.messages.set(id, message);
    this.makeVisibleAfter(message, delayMs, now);
    return { messageId: id, duplicate: false };
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    this.assertOpen("receive");
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
      throw new TypeError(
        `MemoryQueue("${this.name}").receive: maxMessages must be a positive integer, got ${String(maxMessages)}`,
      );
    }
    const waitMs = checkDelay(options.waitMs, `MemoryQueue("${this.name}").receive (waitMs)`);
    this.promoteDue(this.clock.now());
    const taken = this.take(maxMessages);
    if (taken.length > 0 || waitMs === 0) return taken;
    return new Promise<Array<QueueMessage<T>>>((resolve) => {
      const waiter: Waiter = {
        maxMessages,
        resolve: resolve as (messages: QueueMessage[]) => void,
        timer: setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          resolve([]);
        }, waitMs),
      };
      this.waiters.push(waiter);
      this.scheduleWake();
    });
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    this.assertOpen("ack");
    const stored = this.currentDelivery(message);
    if (!stored) return;
    this.messages.delete(stored.id);
    stored.token++;
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    this.assertOpen("nack");
    const delayMs = checkDelay(options.delayMs, `MemoryQueue("${this.name}").nack`);
    const stored = this.currentDelivery(message);
    if (!stored) return;
    stored.receipt = undefined;
    this.makeVisibleAfter(stored, delayMs, this.clock.now());
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    this.assertOpen("extendLease");
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(
        `MemoryQueue("${this.name}").extendLease: ms must be a positive number of milliseconds, got ${String(ms)}`,
      );
    }
    // A lease that lapsed but was not yet handed to anyone else can still be extended, like ack.
    const stored = this.currentDelivery(message);
    if (!stored) {
      throw new Error(
        `MemoryQueue("${this.name}").extendLease: message ${message.id} is no longer leased by this receipt ` +
          "(it was acked, nacked, or its lease ended and it may have been delivered again); stop working on it",
      );
    }
    stored.token++;
    this.timed.push({ at: this.clock.now() + ms, id: stored.id, token: stored.token });
    this.compactTimedIfBloated();
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    this.assertOpen("deadLetter");
    if (typeof reason !== "string" || reason.length === 0) {
      throw new TypeError(`MemoryQueue("${this.name}").deadLetter: reason must be a non-empty string`);
    }
    const stored = this.currentDelivery(message);
    if (!stored) return;
    this.moveToDeadLetters(stored, reason, this.clock.now());
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen("listDeadLetters");
    const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TypeError(
        `MemoryQueue("${this.name}").listDeadLetters: limit must be a positive integer, got ${String(limit)}`,
      );
    }
    this.promoteDue(this.clock.now());
    const result: Array<DeadLetter<T>> = [];
    for (const { bodyJson, ...letter } of this.deadLetters.values()) {
      if (result.length === limit) break;
      result.push({ ...letter, body: fromStoredJson<T>(bodyJson), attributes: { ...letter.attributes } });
    }
    return result;
  }

  async redrive(deadLetterId: string): Promise<void> {
    this.assertOpen("redrive");
    const letter = this.deadLetters.get(deadLetterId);
    if (!letter) {
      throw new Error(
        `MemoryQueue("${this.name}").redrive: no dead letter with id ${JSON.stringify(deadLetterId)}; ` +
          "take the id from listDeadLetters()",
      );
    }
    this.deadLetters.delete(deadLetterId);
    // Same id, fresh delivery count; the dedupe window is bypassed on purpose (a redrive is not a duplicate).
    const message: StoredMessage = {
      id: letter.id,
      bodyJson: letter.bodyJson,
      attributes: letter.attributes,
      dedupeId: letter.dedupeId,
      publishedAt: this.clock.now(),
      deliveryCount: 0,
      state: "ready",
      token: 0,
      receipt: undefined,
    };
    this.messages.set(message.id, message);
    this.makeVisibleAfter(message, 0, this.clock.now());
  }

  async ping(): Promise<void> {
    this.assertOpen("ping");
  }

  async depth(): Promise<number> {
    this.assertOpen("depth");
    return this.messages.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve([]);
    }
  }

  /** Messages not yet acked or dead-lettered (ready, delayed or leased); for tests and diagnostics. */
  get pendingCount(): number {
    return this.messages.size;
  }

  private makeVisibleAfter(message: StoredMessage, delayMs: number, now: number): void {
    message.token++;
    if (delayMs > 0) {
      message.state = "scheduled";
      this.timed.push({ at: now + delayMs, id: message.id, token: message.token });
      this.scheduleWake();
      return;
    }
    if (message.deliveryCount >= this.maxDeliveries) {
      this.moveToDeadLetters(
        message,
        `not acknowledged after ${message.deliveryCount} deliveries (maxDeliveries ${this.maxDeliveries})`,
        now,
      );
      return;
    }
    message.state = "ready";
    this.ready.push({ id: message.id, token: message.token });
    if (this.waiters.length > 0) this.serveWaiters();
  }

  /** Applies every delay end and lease end that is due. */
  private promoteDue(now: number): void {
    for (let top = this.timed.peek(); top !== undefined && top.at <= now; top = this.timed.peek()) {
      this.timed.pop();
      const message = this.messages.get(top.id);
      if (!message || message.token !== top.token) continue;
      if (message.state === "leased") message.receipt = undefined;
      this.makeVisibleAfter(message, 0, now);
    }
  }

  private take(maxMessages: number): Array<QueueMessage<T>> {
    const taken: Array<QueueMessage<T>> = [];
    const now = this.clock.now();
    while (taken.length < maxMessages && this.readyHead < this.ready.length) {
      const entry = this.ready[this.readyHead++]!;
      const message = this.messages.get(entry.id);
      if (!message || message.token !== entry.token || message.state !== "ready") continue;
      message.deliveryCount++;
      message.state = "leased";
      message.token++;
      message.receipt = `${message.id}.${message.deliveryCount}.${message.token}`;
      this.timed.push({ at: now + this.visibilityTimeoutMs, id: message.id, token: message.token });
      taken.push({
        id: message.id,
        body: fromStoredJson<T>(message.bodyJson),
        attributes: { ...message.attributes },
        ...(message.dedupeId !== undefined ? { dedupeId: message.dedupeId } : {}),
        deliveryCount: message.deliveryCount,
        publishedAt: message.publishedAt,
        receipt: message.receipt,
      });
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    this.compactTimedIfBloated();
    this.scheduleWake();
    return taken;
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.readyHead < this.ready.length) {
      const waiter = this.waiters[0]!;
      const taken = this.take(waiter.maxMessages);
      if (taken.length === 0) break;
      this.waiters.shift();
      clearTimeout(waiter.timer);
      waiter.resolve(taken as QueueMessage[]);
    }
  }

  /** Keeps one timer armed for the earliest delay/lease end while receivers are waiting. */
  private scheduleWake(): void {
    if (this.closed || this.waiters.length === 0) return;
    const next = this.timed.peek();
    if (!next || next.at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = next.at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Number.POSITIVE_INFINITY;
        if (this.closed) return;
        this.promoteDue(this.clock.now());
        this.serveWaiters();
        this.scheduleWake();
      },
      Math.max(0, next.at - this.clock.now()),
    );
  }

  private currentDelivery(message: QueueMessage<T>): StoredMessage | undefined {
    if (!message || typeof message.id !== "string" || typeof message.receipt !== "string") {
      throw new TypeError(`MemoryQueue("${this.name}"): pass a message returned by receive()`);
    }
    const stored = this.messages.get(message.id);
    if (stored?.state !== "leased" || stored.receipt !== message.receipt) return undefined;
    return stored;
  }

  private moveToDeadLetters(message: StoredMessage, reason: string, now: number): void {
    this.messages.delete(message.id);
    message.token++;
    this.deadLetters.set(message.id, {
      id: message.id,
      bodyJson: message.bodyJson,
      attributes: message.attributes,
      ...(message.dedupeId !== undefined ? { dedupeId: message.dedupeId } : {}),
      deliveryCount: message.deliveryCount,
      reason,
      deadLetteredAt: now,
    });
  }

  private forgetExpiredDedupeIds(now: number): void {
    for (const [dedupeId, seen] of this.dedupeIds) {
      if (seen.until > now) return;
      this.dedupeIds.delete(dedupeId);
    }
  }

  /** Acked or re-leased messages leave stale heap entries behind; shed them when they dominate. */
  private compactTimedIfBloated(): void {
    if (this.timed.size < 4096 || this.timed.size < this.messages.size * 4) return;
    this.timed.retain((entry) => this.messages.get(entry.id)?.token === entry.token);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`MemoryQueue("${this.name}").${operation}: the queue is closed`);
  }
}

function checkDelay(value: number | undefined, where: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: expected a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function copyAttributes(attributes: MessageAttributes | undefined, queueName: string): MessageAttributes {
  const copy: MessageAttributes = {};
  if (attributes === undefined) return copy;
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `MemoryQueue("${queueName}").publish: attribute ${JSON.stringify(key)} must be a string, got ${typeof value}`,
      );
    }
    copy[key] = value;
  }
  return copy;
}
