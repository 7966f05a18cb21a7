import { randomBytes, randomUUID } from "node:crypto";
import {
  type Clock,
  type DeadLetter,
  PublishDedupe,
  type PublishOptions,
  type PublishResult,
  type Queue,
  type QueueMessage,
  type ReceiveOptions,
  systemClock,
} from "@aat/core";
import { Broker, type Delivery } from "./broker.js";
import { checkedAttributes, type Envelope, publishProperties, readEnvelope } from "./envelope.js";
import {
  connectOptionsSchema,
  destroyOptionsSchema,
  parseOptions,
  type RabbitQueueDestroyOptions,
  type RabbitQueueOptions,
} from "./options.js";
import { declareTopology, delayRoutingKey, deleteTopology, type Topology, topologyFor } from "./topology.js";

const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_DELIVERIES = 5;
const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 50;
const DEFAULT_DELAY_LEVELS = 32;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_DEAD_LETTER_LIMIT = 100;

/** A message handed to a receiver and not yet settled. */
interface Lease {
  delivery: Delivery;
  envelope: Envelope;
  deliveryCount: number;
  timer: ReturnType<typeof setTimeout>;
}

const exhaustedReason = (deliveries: number, maxDeliveries: number) =>
  `not acknowledged after ${deliveries} deliveries (maxDeliveries ${maxDeliveries})`;

/**
 * Queue on RabbitMQ through amqplib: a durable work queue, delay queues with queue-level TTLs for
 * delayed publishes and retries, and a dead-letter queue (see `topology.ts`). Publishes wait for the
 * broker's confirm. Receivers take messages with basic.get, so a message is only ever held by a caller
 * that asked for it.
 *
 * RabbitMQ redelivers an unacknowledged message only when the channel it went out on closes, so the
 * adapter keeps the lease itself: each received message has a timer; when it fires before an ack, the
 * adapter publishes a copy with the delivery count in its headers (or, at maxDeliveries, to the
 * dead-letter queue) and acks the original. A copy the broker requeued because its receiver's channel
 * closed comes back flagged `redelivered`; the adapter counts that lost delivery the same way.
 */
export class RabbitQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  readonly visibilityTimeoutMs: number;
  private readonly topology: Topology;
  private readonly broker: Broker;
  private readonly clock: Clock;
  private readonly dedupe: PublishDedupe | undefined;
  private readonly dedupeWindowMs: number;
  private readonly pollIntervalMs: number;
  private readonly where: string;
  private readonly leases = new Map<string, Lease>();
  private readonly receiptPrefix = `${randomBytes(6).toString("base64url")}.`;
  private receiptCounter = 0;
  /** Wakes receivers that are waiting between polls (on close). */
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  private constructor(settings: ReturnType<typeof parseConnectOptions>) {
    this.name = settings.name;
    this.where = `RabbitQueue("${settings.name}")`;
    this.visibilityTimeoutMs = settings.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
    this.maxDeliveries = settings.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.dedupeWindowMs = settings.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.pollIntervalMs = settings.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.clock = settings.clock ?? systemClock;
    this.topology = topologyFor(settings.name, settings.delayLevels ?? DEFAULT_DELAY_LEVELS);
    this.broker = new Broker(
      settings.url,
      settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      this.where,
      (generation) => this.forgetLeasesOf(generation),
    );
    this.dedupe =
      settings.kv === undefined
        ? undefined
        : new PublishDedupe(
            settings.kv,
            settings.dedupePrefix ?? `rabbitmq/${settings.name}/dedupe/`,
            this.dedupeWindowMs,
            this.clock,
            this.where,
          );
  }

  /** Connects and declares the queue's broker objects (idempotent: every replica may do it). */
  static async connect<T = unknown>(options: RabbitQueueOptions): Promise<RabbitQueue<T>> {
    const queue = new RabbitQueue<T>(parseConnectOptions(options));
    try {
      await queue.broker.open();
      await queue.broker.withChannel("declaring the queues and exchanges", (channel) =>
        declareTopology(channel, queue.topology),
      );
    } catch (error) {
      await queue.broker.close();
      throw withDeclareHint(error);
    }
    return queue;
  }

  /** Deletes the queue's broker objects and every message in them (tests, decommissioning). */
  static async destroy(options: RabbitQueueDestroyOptions): Promise<void> {
    const settings = parseOptions(destroyOptionsSchema, options, "RabbitQueue.destroy");
    const broker = new Broker(
      settings.url,
      settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      `RabbitQueue.destroy("${settings.name}")`,
      () => undefined,
    );
    try {
      await broker.withChannel("deleting the queues and exchanges", (channel) =>
        deleteTopology(channel, topologyFor(settings.name, settings.delayLevels ?? DEFAULT_DELAY_LEVELS)),
      );
    } finally {
      await broker.close();
    }
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen("publish");
    const where = `${this.where}.publish`;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${where}: options must be an object`);
    }
    const delayMs = checkMilliseconds(options.delayMs, `${where} (delayMs)`);
    const { dedupeId } = options;
    if (dedupeId !== undefined && (typeof dedupeId !== "string" || dedupeId.length === 0)) {
      throw new TypeError(`${where}: dedupeId must be a non-empty string`);
    }
    const envelope: Envelope = {
      id: randomUUID(),
      content: toJsonContent(body, where),
      attributes: checkedAttributes(options.attributes, where),
      dedupeId,
      deliveries: 0,
      publishedAt: this.clock.now(),
      notBefore: undefined,
      deadReason: undefined,
      deadLetteredAt: undefined,
    };
    const send = async () => {
      await this.send(envelope, delayMs);
      return envelope.id;
    };
    if (dedupeId === undefined || this.dedupeWindowMs === 0) {
      return { messageId: await send(), duplicate: false };
    }
    if (this.dedupe === undefined) {
      throw new TypeError(
        `${where}: a dedupeId needs a KeyValue store for the claims (RabbitMQ has no broker-side dedupe); ` +
          "pass kv to RabbitQueue.connect, or dedupeWindowMs: 0 to publish without dedupe",
      );
    }
    return this.dedupe.publishOnce(dedupeId, send);
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    this.assertOpen("receive");
    const maxMessages = options.maxMessages ?? 1;
    if (!Number.isInteger(maxMessages) || maxMessages <= 0) {
      throw new TypeError(
        `${this.where}.receive: maxMessages must be a positive integer, got ${String(maxMessages)}`,
      );
    }
    const waitMs = checkMilliseconds(options.waitMs, `${this.where}.receive (waitMs)`);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const batch = await this.takeUpTo(maxMessages);
      if (this.closed) return [];
      const left = deadline - Date.now();
      if (batch.length > 0 || left <= 0) return batch;
      await this.pause(Math.min(this.pollIntervalMs, left));
      if (this.closed) return [];
    }
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    this.assertOpen("ack");
    const lease = this.settle(message);
    if (lease === undefined) return;
    // False when the channel closed meanwhile: the broker requeued the message and it comes back.
    await this.broker.ack(lease.delivery);
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    this.assertOpen("nack");
    const delayMs = checkMilliseconds(options?.delayMs, `${this.where}.nack (delayMs)`);
    const lease = this.settle(message);
    if (lease === undefined) return;
    await this.requeue(lease.delivery, lease.envelope, lease.deliveryCount, delayMs);
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    this.assertOpen("extendLease");
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(
        `${this.where}.extendLease: ms must be a positive number of milliseconds, got ${String(ms)}`,
      );
    }
    const lease = this.leaseOf(message);
    if (lease === undefined) {
      throw new Error(
        `${this.where}.extendLease: message ${message.id} is no longer leased by this receipt (it was settled, ` +
          "its lease ended and a copy was requeued, or the channel closed); stop working on it",
      );
    }
    clearTimeout(lease.timer);
    lease.timer = this.leaseTimer(message.receipt, ms);
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    this.assertOpen("deadLetter");
    if (typeof reason !== "string" || reason.length === 0) {
      throw new TypeError(`${this.where}.deadLetter: reason must be a non-empty string`);
    }
    const lease = this.settle(message);
    if (lease === undefined) return;
    await this.moveToDeadLetters(
      lease.delivery,
      { ...lease.envelope, deliveries: lease.deliveryCount },
      reason,
    );
  }

  /**
   * Peeks at the dead-letter queue: takes up to `limit` messages with basic.get on a channel of its own
   * and hands them all back (requeue) before returning. While a listing runs, the letters it holds are
   * invisible to other listings and redrives.
   */
  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen("listDeadLetters");
    const limit = options?.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TypeError(
        `${this.where}.listDeadLetters: limit must be a positive integer, got ${String(limit)}`,
      );
    }
    return this.broker.withChannel("listing dead letters", async (channel) => {
      const letters: Array<DeadLetter<T>> = [];
      while (letters.length < limit) {
        const message = await channel.get(this.topology.deadLetterQueue, { noAck: false });
        if (message === false) break;
        letters.push(this.toDeadLetter(readEnvelope(message, this.clock.now())));
      }
      channel.nackAll(true);
      return letters;
    });
  }

  /**
   * Publishes the dead letter with this id again (delivery count 0, bypassing dedupe) and removes it from
   * the dead-letter queue. Scans the whole dead-letter queue; copies with the same id are all removed.
   */
  async redrive(deadLetterId: string): Promise<void> {
    this.assertOpen("redrive");
    if (typeof deadLetterId !== "string" || deadLetterId.length === 0) {
      throw new TypeError(`${this.where}.redrive: deadLetterId must be a non-empty string`);
    }
    const found = await this.broker.withChannel("redriving a dead letter", async (channel) => {
      const matches = [];
      for (;;) {
        const message = await channel.get(this.topology.deadLetterQueue, { noAck: false });
        if (message === false) break;
        if (message.properties.messageId === deadLetterId) matches.push(message);
      }
      const first = matches[0];
      if (first !== undefined) {
        const letter = readEnvelope(first, this.clock.now());
        await this.send(
          {
            ...letter,
            deliveries: 0,
            publishedAt: this.clock.now(),
            notBefore: undefined,
            deadReason: undefined,
            deadLetteredAt: undefined,
          },
          0,
        );
        for (const match of matches) channel.ack(match);
      }
      channel.nackAll(true);
      return first !== undefined;
    });
    if (!found) {
      throw new Error(
        `${this.where}.redrive: no dead letter with id ${JSON.stringify(deadLetterId)} in ` +
          `${this.topology.deadLetterQueue}; take the id from listDeadLetters()`,
      );
    }
  }

  async ping(): Promise<void> {
    this.assertOpen("ping");
    await this.broker.withChannel(`checking queue ${this.name}`, async (channel) => {
      await channel.checkQueue(this.name);
    });
  }

  /**
   * Messages waiting: ready in the work queue and in the delay queues (AMQP's message count of a passive
   * declare, one per queue), plus those leased by this process. Messages leased by other processes are
   * not counted: AMQP reports ready messages only (the management API would know, at the cost of an HTTP
   * client and its credentials). For the /metrics queue depth gauge.
   */
  async depth(): Promise<number> {
    this.assertOpen("depth");
    const { levels } = this.topology;
    const queues = [
      this.name,
      ...Array.from({ length: levels }, (_, level) => this.topology.delayName(level)),
    ];
    return this.broker.withChannel(`counting the messages of ${this.name}`, async (channel) => {
      let waiting = 0;
      for (const queue of queues) waiting += (await channel.checkQueue(queue)).messageCount;
      return waiting + this.leases.size;
    });
  }

  /** Stops lease timers and closes the connection; the broker requeues messages still leased here. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
    this.leases.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    await this.broker.close();
  }

  /** Messages received here and neither settled nor lapsed; for tests and diagnostics. */
  get leasedCount(): number {
    return this.leases.size;
  }

  private async takeUpTo(maxMessages: number): Promise<Array<QueueMessage<T>>> {
    const taken: Array<QueueMessage<T>> = [];
    while (taken.length < maxMessages && !this.closed) {
      const delivery = await this.broker.get(this.name).catch((error: unknown) => {
        if (this.closed) return undefined;
        throw error;
      });
      if (delivery === undefined) break;
      try {
        const message = await this.admit(delivery);
        if (message !== undefined) taken.push(message);
      } catch (error) {
        await this.broker.release(delivery);
        throw error;
      }
    }
    return taken;
  }

  /** Turns a delivery into a leased message, or deals with it (lost delivery, pending delay, bad body). */
  private async admit(delivery: Delivery): Promise<QueueMessage<T> | undefined> {
    const now = this.clock.now();
    const envelope = readEnvelope(delivery.message, now);
    if (envelope.notBefore !== undefined && envelope.notBefore > now) {
      // A delay longer than one pass through the delay queues: another round. Never handed to anyone.
      await this.send(envelope, envelope.notBefore - now);
      await this.broker.ack(delivery);
      return undefined;
    }
    if (delivery.message.fields.redelivered) {
      // basic.get hands every copy straight to a caller, so a requeued copy means that caller's channel
      // closed before it settled the message: that delivery happened and counts.
      await this.requeue(delivery, envelope, envelope.deliveries + 1, 0);
      return undefined;
    }
    const deliveryCount = envelope.deliveries + 1;
    if (deliveryCount > this.maxDeliveries) {
      await this.moveToDeadLetters(
        delivery,
        envelope,
        exhaustedReason(envelope.deliveries, this.maxDeliveries),
      );
      return undefined;
    }
    let body: T;
    try {
      body = JSON.parse(envelope.content.toString("utf8")) as T;
    } catch (error) {
      await this.moveToDeadLetters(
        delivery,
        { ...envelope, deliveries: deliveryCount },
        `body is not JSON (${error instanceof Error ? error.message : String(error)}); ` +
          "publish through RabbitQueue or send application/json bodies",
      );
      return undefined;
    }
    const receipt = this.receiptPrefix + (++this.receiptCounter).toString(36);
    this.leases.set(receipt, {
      delivery,
      envelope,
      deliveryCount,
      timer: this.leaseTimer(receipt, this.visibilityTimeoutMs),
    });
    return {
      id: envelope.id,
      body,
      attributes: { ...envelope.attributes },
      ...(envelope.dedupeId !== undefined ? { dedupeId: envelope.dedupeId } : {}),
      deliveryCount,
      publishedAt: envelope.publishedAt,
      receipt,
    };
  }

  private leaseTimer(receipt: string, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const lease = this.leases.get(receipt);
      if (lease === undefined || lease.timer !== timer) return;
      this.leases.delete(receipt);
      this.requeue(lease.delivery, lease.envelope, lease.deliveryCount, 0).catch(() =>
        // The copy did not go out: hand the original back; it returns flagged redelivered and is counted.
        this.broker.release(lease.delivery),
      );
    }, ms);
    // An exiting process needs no timer to hand leases back: its channel closes and the broker requeues.
    timer.unref();
    return timer;
  }

  /**
   * Settles a delivery that has been delivered `deliveries` times without success: a copy carrying that
   * count goes back to the work queue (through the delay queues when `delayMs` > 0), or to the dead-letter
   * queue once maxDeliveries is reached; then the original is acked. A crash in between leaves both, which
   * at-least-once delivery allows.
   */
  private async requeue(delivery: Delivery, envelope: Envelope, deliveries: number, delayMs: number) {
    if (deliveries >= this.maxDeliveries) {
      await this.moveToDeadLetters(
        delivery,
        { ...envelope, deliveries },
        exhaustedReason(deliveries, this.maxDeliveries),
      );
      return;
    }
    await this.send({ ...envelope, deliveries, notBefore: undefined }, delayMs);
    await this.broker.ack(delivery);
  }

  private async moveToDeadLetters(delivery: Delivery, envelope: Envelope, reason: string): Promise<void> {
    const letter: Envelope = {
      ...envelope,
      notBefore: undefined,
      deadReason: reason,
      deadLetteredAt: this.clock.now(),
    };
    await this.broker.publish("", this.topology.deadLetterQueue, letter.content, publishProperties(letter));
    await this.broker.ack(delivery);
  }

  /** Publishes (confirmed) to the work queue now, or through the delay queues. */
  private async send(envelope: Envelope, delayMs: number): Promise<void> {
    const delay = Math.ceil(delayMs);
    if (delay <= 0) {
      await this.broker.publish("", this.name, envelope.content, publishProperties(envelope));
      return;
    }
    const { maxDelayMs } = this.topology;
    const routed: Envelope =
      delay > maxDelayMs ? { ...envelope, notBefore: this.clock.now() + delay } : envelope;
    await this.broker.publish(
      this.topology.delayEntry,
      delayRoutingKey(this.topology, Math.min(delay, maxDelayMs)),
      envelope.content,
      publishProperties(routed),
    );
  }

  private toDeadLetter(envelope: Envelope): DeadLetter<T> {
    const text = envelope.content.toString("utf8");
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      // Dead-lettered because it was not JSON: show the text as it is.
      body = text as T;
    }
    return {
      id: envelope.id,
      body,
      attributes: envelope.attributes,
      ...(envelope.dedupeId !== undefined ? { dedupeId: envelope.dedupeId } : {}),
      deliveryCount: envelope.deliveries,
      reason: envelope.deadReason ?? "dead-lettered outside this adapter (no reason header)",
      deadLetteredAt: envelope.deadLetteredAt ?? this.clock.now(),
    };
  }

  private leaseOf(message: QueueMessage<T>): Lease | undefined {
    if (!message || typeof message.id !== "string" || typeof message.receipt !== "string") {
      throw new TypeError(`${this.where}: pass a message returned by receive()`);
    }
    const lease = this.leases.get(message.receipt);
    return lease?.envelope.id === message.id ? lease : undefined;
  }

  /** Ends the lease of `message` and returns it, or undefined when it was already settled or lost. */
  private settle(message: QueueMessage<T>): Lease | undefined {
    const lease = this.leaseOf(message);
    if (lease === undefined) return undefined;
    clearTimeout(lease.timer);
    this.leases.delete(message.receipt);
    return lease;
  }

  private forgetLeasesOf(generation: number): void {
    for (const [receipt, lease] of this.leases) {
      if (lease.delivery.generation !== generation) continue;
      clearTimeout(lease.timer);
      this.leases.delete(receipt);
    }
  }

  private pause(ms: number): Promise<void> {
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

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`${this.where}.${operation}: the queue is closed`);
  }
}

function parseConnectOptions(options: RabbitQueueOptions) {
  return parseOptions(connectOptionsSchema, options, "RabbitQueue.connect");
}

function checkMilliseconds(value: number | undefined, where: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: expected a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function toJsonContent(body: unknown, where: string): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new TypeError(
      `${where}: the body cannot be serialised as JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (text === undefined) {
    throw new TypeError(`${where}: the body must be JSON-serialisable, got ${typeof body}`);
  }
  return Buffer.from(text, "utf8");
}

function withDeclareHint(error: unknown): unknown {
  if (error instanceof Error && error.message.includes("PRECONDITION_FAILED")) {
    return new Error(
      `${error.message}; a queue or exchange of that name already exists with other settings: ` +
        "delete it (RabbitQueue.destroy) or choose another name",
    );
  }
  return error;
}
