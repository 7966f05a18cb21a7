import {
  type Clock,
  type DeadLetter,
  type PublishOptions,
  type PublishResult,
  type Queue,
  type QueueMessage,
  type ReceiveOptions,
  systemClock,
} from "@aat/core";
import { type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { type AckSubject, parseAckSubject } from "./ack-subject.js";
import {
  confirm,
  deadLetterExhausted,
  type HandlerContext,
  moveWhenDue,
  nakPayload,
} from "./background-handlers.js";
import { decodeBody, encodeBody } from "./body.js";
import { messageOf, openConnection } from "./connection.js";
import { ConsumerLoop } from "./consumer-loop.js";
import { DeadLetterStore } from "./dead-letter-store.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import { LeaseKeeper } from "./lease-keeper.js";
import {
  AAT,
  attributesToHeaders,
  copyHeaders,
  headersToAttributes,
  headerTime,
  headerValue,
  NATS_MSG_ID,
} from "./message-headers.js";
import {
  type NatsConnectionOptions,
  type NatsQueueOptions,
  natsConnectionOptionsSchema,
  natsQueueOptionsSchema,
  parseOptions,
} from "./options.js";
import { deleteQueueStreams, provisionQueue } from "./provisioning.js";
import { JetStreamPublisher } from "./publisher.js";
import { Puller } from "./pull.js";
import { type QueueTopology, queueTopology } from "./topology.js";

const DEFAULTS = {
  consumer: "workers",
  ackWaitMs: 30_000,
  maxDeliver: 5,
  duplicateWindowMs: 120_000,
  maxAckPending: 10_000,
  storage: "file",
  replicas: 1,
  requestTimeoutMs: 5_000,
} as const;
const DEFAULT_DEAD_LETTER_LIMIT = 100;
const MAX_RECEIVE_BATCH = 1_000;
/** How long the background loops' pulls wait before asking again. */
const BACKGROUND_WAIT_MS = 5_000;
/** Longest a late delivery waits for the next receive before it is handed back (capped at ack wait / 4). */
const LATE_HOLD_MS = 1_000;

interface Parts {
  connection: NatsConnection;
  manager: JetStreamManager;
  description: string;
  topology: QueueTopology;
  ackWaitMs: number;
  maxDeliver: number;
  requestTimeoutMs: number;
  clock: Clock;
  onError: (error: Error) => void;
}

/**
 * Queue on NATS JetStream: a work-queue stream with a durable pull consumer shared by every process, broker
 * dedupe through `Nats-Msg-Id`, delays through a `<subject>.delayed` subject, leases through ack wait and
 * working indicators, and dead letters in `<stream>_DLQ`. See docs/ports.md ("NATS JetStream adapter").
 */
export class NatsQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  readonly ackWaitMs: number;
  readonly topology: QueueTopology;
  private readonly connection: NatsConnection;
  private readonly client: JetStreamClient;
  /** The hot path's publishes (the library's client still does redrives and the background moves). */
  private readonly publisher: JetStreamPublisher;
  private readonly manager: JetStreamManager;
  private readonly description: string;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly deadLetters: DeadLetterStore;
  private readonly leases: LeaseKeeper;
  /** The work consumer's deliveries handed out here and not settled: see delivery-ledger.ts. */
  private readonly ledger: DeliveryLedger;
  private readonly loops: ConsumerLoop[];
  private readonly puller: Puller;
  private readonly receiving = new AbortController();
  private readonly apiPrefix: string;
  private readonly onError: (error: Error) => void;
  private closed = false;

  /** Connects, creates or updates the streams and consumers, and starts the background work. */
  static async connect<T = unknown>(options: NatsQueueOptions): Promise<NatsQueue<T>> {
    const settings = parseOptions(natsQueueOptionsSchema, options, "NatsQueue.connect");
    const topology = queueTopology(
      settings.stream,
      settings.subject ?? settings.stream,
      settings.consumer ?? DEFAULTS.consumer,
    );
    const who = `NatsQueue("${settings.stream}")`;
    const { connection, manager, description } = await openConnection(
      settings,
      `aat-${settings.stream}`,
      who,
    );
    const ackWaitMs = settings.ackWaitMs ?? DEFAULTS.ackWaitMs;
    const maxDeliver = settings.maxDeliver ?? DEFAULTS.maxDeliver;
    try {
      await provisionQueue(
        manager,
        topology,
        {
          ackWaitMs,
          maxDeliver,
          maxAckPending: settings.maxAckPending ?? DEFAULTS.maxAckPending,
          duplicateWindowMs: settings.duplicateWindowMs ?? DEFAULTS.duplicateWindowMs,
          storage: settings.storage ?? DEFAULTS.storage,
          replicas: settings.replicas ?? DEFAULTS.replicas,
        },
        who,
      );
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error instanceof Error && error.message.startsWith(who)
        ? error
        : new Error(`${who}: provisioning on ${description} failed: ${messageOf(error)}`, { cause: error });
    }
    return new NatsQueue<T>({
      connection,
      manager,
      description,
      topology,
      ackWaitMs,
      maxDeliver,
      requestTimeoutMs: settings.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      clock: settings.clock ?? systemClock,
      onError: settings.onError ?? ((error) => console.warn(`${who}: ${error.message}`)),
    });
  }

  /** Deletes a queue's streams (`<stream>` and `<stream>_DLQ`) with everything in them; for tests and teardown. */
  static async destroy(options: NatsConnectionOptions & { stream: string }): Promise<void> {
    const { stream, ...connectionOptions } = options;
    const settings = parseOptions(natsConnectionOptionsSchema, connectionOptions, "NatsQueue.destroy");
    const { connection, manager } = await openConnection(
      settings,
      `aat-${stream}-destroy`,
      "NatsQueue.destroy",
    );
    try {
      await deleteQueueStreams(manager, queueTopology(stream, stream, DEFAULTS.consumer));
    } finally {
      await connection.close();
    }
  }

  private constructor(parts: Parts) {
    this.connection = parts.connection;
    this.manager = parts.manager;
    this.client = jetstream(parts.connection, { timeout: parts.requestTimeoutMs });
    this.apiPrefix = this.client.apiPrefix;
    this.description = parts.description;
    this.topology = parts.topology;
    this.name = parts.topology.stream;
    this.ackWaitMs = parts.ackWaitMs;
    this.maxDeliveries = parts.maxDeliver;
    this.requestTimeoutMs = parts.requestTimeoutMs;
    this.clock = parts.clock;
    this.onError = parts.onError;
    this.deadLetters = new DeadLetterStore(
      this.client,
      this.manager,
      this.topology,
      this.clock,
      this.requestTimeoutMs,
    );
    this.ledger = new DeliveryLedger(this.ackWaitMs);
    this.leases = new LeaseKeeper(this.ackWaitMs, this.clock, (receipt) => {
      if (!this.connection.isClosed()) this.connection.publish(receipt, "+WPI");
    });
    const context: HandlerContext = {
      connection: this.connection,
      client: this.client,
      manager: this.manager,
      topology: this.topology,
      deadLetters: this.deadLetters,
      clock: this.clock,
      timeoutMs: this.requestTimeoutMs,
    };
    // A delivery that reached a pull after it ended waits this long for the next receive, then is nak'ed.
    const lateHoldMs = Math.max(1, Math.min(LATE_HOLD_MS, Math.floor(this.ackWaitMs / 4)));
    this.puller = new Puller(this.target(this.topology.consumer), { lateHoldMs, onError: parts.onError });
    this.publisher = new JetStreamPublisher(this.connection, this.requestTimeoutMs);
    const loopOptions = {
      batch: 64,
      waitMs: BACKGROUND_WAIT_MS,
      graceMs: this.requestTimeoutMs,
      lateHoldMs,
      onError: parts.onError,
    };
    this.loops = [
      new ConsumerLoop(this.target(this.topology.delayedConsumer), moveWhenDue(context), loopOptions),
      new ConsumerLoop(
        this.target(this.topology.exhaustedConsumer),
        deadLetterExhausted(context, this.maxDeliveries, parts.onError),
        loopOptions,
      ),
    ];
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    const where = this.where("publish");
    this.assertOpen("publish");
    if (options === null || typeof options !== "object")
      throw new TypeError(`${where}: options must be an object`);
    const data = encodeBody(body, where);
    const delayMs = checkDelay(options.delayMs, where);
    const headers = attributesToHeaders(options.attributes, where);
    const { dedupeId } = options;
    if (dedupeId !== undefined && (typeof dedupeId !== "string" || !isHeaderValue(dedupeId))) {
      throw new TypeError(
        `${where}: dedupeId must be a non-empty string without line breaks or surrounding whitespace ` +
          `(it travels as the Nats-Msg-Id header), got ${JSON.stringify(dedupeId)}`,
      );
    }
    let subject = this.topology.subject;
    if (delayMs > 0) {
      headers.set(AAT.deliverAt, String(this.clock.now() + Math.ceil(delayMs)));
      subject = this.topology.delayedSubject;
    }
    try {
      if (dedupeId !== undefined) headers.set(NATS_MSG_ID, dedupeId);
      const ack = await this.publisher.publish(subject, data, headers);
      return { messageId: String(ack.seq), duplicate: ack.duplicate };
    } catch (error) {
      throw this.failure("publish", error);
    }
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    const where = this.where("receive");
    this.assertOpen("receive");
    const maxMessages = options.maxMessages ?? 1;
    const waitMs = options.waitMs ?? 0;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > MAX_RECEIVE_BATCH) {
      throw new TypeError(
        `${where}: maxMessages must be an integer from 1 to ${MAX_RECEIVE_BATCH}, got ${String(maxMessages)}`,
      );
    }
    if (typeof waitMs !== "number" || !Number.isFinite(waitMs) || waitMs < 0) {
      throw new TypeError(`${where}: waitMs must be a number of milliseconds >= 0, got ${String(waitMs)}`);
    }
    let delivered: Msg[];
    try {
      delivered = await this.puller.pull({
        batch: maxMessages,
        waitMs: Math.ceil(waitMs),
        graceMs: this.requestTimeoutMs,
        signal: this.receiving.signal,
      });
    } catch (error) {
      throw this.failure("receive", error);
    }
    const messages: Array<QueueMessage<T>> = [];
    const now = this.clock.now();
    for (const message of delivered) {
      const ack = message.reply ? parseAckSubject(message.reply) : undefined;
      if (!ack || !message.reply) continue;
      const admission = this.ledger.admit(ack, now);
      if (admission.anomaly) this.onError(new Error(`work consumer ${ack.consumer}: ${admission.anomaly}`));
      if (!admission.handOut) continue;
      const { deliveryCount } = admission;
      const decoded = decodeBody(message.data);
      if (!decoded.ok) {
        // Never handed out; if dead-lettering fails it comes back after the ack wait and is tried again.
        await this.deadLetterDelivery(
          message.reply,
          ack,
          deliveryCount,
          `the body is not JSON (${decoded.problem}); was it published by another client?`,
        ).catch((error: Error) => this.onError(error));
        continue;
      }
      const dedupeId =
        headerValue(message.headers, AAT.dedupeId) ?? headerValue(message.headers, NATS_MSG_ID);
      messages.push({
        id: headerValue(message.headers, AAT.messageId) ?? String(ack.streamSequence),
        body: decoded.value as T,
        attributes: headersToAttributes(message.headers),
        ...(dedupeId !== undefined ? { dedupeId } : {}),
        deliveryCount,
        publishedAt: headerTime(message.headers, AAT.publishedAt) ?? ack.storedAt,
        receipt: message.reply,
      });
    }
    return messages;
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    const receipt = this.receiptOf(message, "ack");
    this.leases.release(receipt);
    await this.settle("ack", receipt, "+ACK");
    this.ledger.settled(parseAckSubject(receipt)!);
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    const receipt = this.receiptOf(message, "nack");
    const delayMs = checkDelay(options?.delayMs, this.where("nack"));
    this.leases.release(receipt);
    this.ledger.handedBack(parseAckSubject(receipt)!);
    await this.settle("nack", receipt, nakPayload(delayMs));
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    const receipt = this.receiptOf(message, "extendLease");
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(
        `${this.where("extendLease")}: ms must be a positive number of milliseconds, got ${String(ms)}`,
      );
    }
    await this.settle("extendLease", receipt, "+WPI");
    const until = this.clock.now() + ms;
    this.leases.keep(receipt, until);
    this.ledger.extend(parseAckSubject(receipt)!, until);
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    const receipt = this.receiptOf(message, "deadLetter");
    if (typeof reason !== "string" || reason.trim().length === 0) {
      throw new TypeError(`${this.where("deadLetter")}: reason must be a non-empty string`);
    }
    this.leases.release(receipt);
    const ack = parseAckSubject(receipt)!;
    await this.deadLetterDelivery(receipt, ack, this.ledger.countOf(ack), reason);
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen("listDeadLetters");
    const limit = options?.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new TypeError(
        `${this.where("listDeadLetters")}: limit must be a positive integer, got ${String(limit)}`,
      );
    }
    try {
      return (await this.deadLetters.list(limit)) as Array<DeadLetter<T>>;
    } catch (error) {
      throw this.failure("listDeadLetters", error);
    }
  }

  async redrive(deadLetterId: string): Promise<void> {
    const where = this.where("redrive");
    this.assertOpen("redrive");
    const sequence =
      typeof deadLetterId === "string" && /^[1-9]\d*$/.test(deadLetterId) ? Number(deadLetterId) : 0;
    if (!Number.isSafeInteger(sequence) || sequence === 0) {
      throw new TypeError(
        `${where}: ${JSON.stringify(deadLetterId)} is not a dead letter id (they are sequence numbers in ` +
          `${this.topology.deadLetterStream}); take the id from listDeadLetters()`,
      );
    }
    try {
      const letter = await this.deadLetters.get(sequence);
      if (!letter) {
        throw new Error(
          `${where}: no dead letter with id ${JSON.stringify(deadLetterId)} in ${this.topology.deadLetterStream}; ` +
            "take the id from listDeadLetters()",
        );
      }
      // Same message id and dedupeId, fresh delivery count and publish time. The Nats-Msg-Id makes a
      // retried redrive (publish succeeded, removal failed) land once.
      const headers = copyHeaders(letter.header, [
        AAT.deadReason,
        AAT.deadAt,
        AAT.deliveryCount,
        AAT.publishedAt,
      ]);
      await this.client.publish(this.topology.subject, letter.data, {
        headers,
        msgID: `aat-redrive-${this.topology.deadLetterStream}-${sequence}`,
        timeout: this.requestTimeoutMs,
      });
      await this.deadLetters.remove(sequence);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith(where)) throw error;
      throw this.failure("redrive", error);
    }
  }

  /** One JetStream API round trip: proves the connection, JetStream and the queue's consumer. */
  async ping(): Promise<void> {
    this.assertOpen("ping");
    try {
      await this.manager.consumers.info(this.topology.stream, this.topology.consumer);
    } catch (error) {
      throw this.failure("ping", error);
    }
  }

  /**
   * Messages not yet acked or dead-lettered: those waiting for (`num_pending`) or held by
   * (`num_ack_pending`) the work consumer, plus the delayed ones, which sit with the delayed consumer
   * until due. Two JetStream API round trips (consumer info), for the /metrics queue depth gauge.
   */
  async depth(): Promise<number> {
    this.assertOpen("depth");
    try {
      const { stream, consumer, delayedConsumer } = this.topology;
      const [work, delayed] = await Promise.all([
        this.manager.consumers.info(stream, consumer),
        this.manager.consumers.info(stream, delayedConsumer),
      ]);
      return work.num_pending + work.num_ack_pending + delayed.num_pending + delayed.num_ack_pending;
    } catch (error) {
      throw this.failure("depth", error);
    }
  }

  /** Stops the background loops, ends waiting receives with [] and drains the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.receiving.abort();
    this.leases.clear();
    await Promise.all([...this.loops.map((loop) => loop.stop()), this.puller.close()]);
    if (!this.connection.isClosed()) {
      try {
        await this.connection.drain();
      } catch {
        await this.connection.close().catch(() => undefined);
      }
    }
  }

  /** `deliveryCount`: as handed out (the ledger's), which a server that repeats a count does not lower. */
  private async deadLetterDelivery(
    receipt: string,
    ack: AckSubject,
    deliveryCount: number,
    reason: string,
  ): Promise<void> {
    try {
      const stored = await this.manager.streams.getMessage(this.topology.stream, { seq: ack.streamSequence });
      // Gone: acked or dead-lettered by someone else in the meantime.
      if (!stored) {
        this.ledger.settled(ack);
        return;
      }
      await this.deadLetters.write({
        data: stored.data,
        headers: stored.header,
        streamSequence: ack.streamSequence,
        storedAt: stored.time.getTime(),
        deliveryCount,
        reason,
      });
      await confirm(this.connection, receipt, "+TERM", this.requestTimeoutMs);
      this.ledger.settled(ack);
    } catch (error) {
      throw this.failure("deadLetter", error);
    }
  }

  private async settle(operation: string, receipt: string, payload: string): Promise<void> {
    try {
      await confirm(this.connection, receipt, payload, this.requestTimeoutMs);
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  private receiptOf(message: QueueMessage<T>, operation: string): string {
    this.assertOpen(operation);
    const receipt = message?.receipt;
    const ack = typeof receipt === "string" ? parseAckSubject(receipt) : undefined;
    if (!ack || ack.stream !== this.topology.stream || ack.consumer !== this.topology.consumer) {
      throw new TypeError(`${this.where(operation)}: pass a message returned by receive() of this queue`);
    }
    return receipt;
  }

  private target(consumer: string) {
    return { connection: this.connection, apiPrefix: this.apiPrefix, stream: this.topology.stream, consumer };
  }

  private where(operation: string): string {
    return `NatsQueue("${this.name}").${operation}`;
  }

  private failure(operation: string, error: unknown): Error {
    if (error instanceof TypeError) return error;
    return new Error(`${this.where(operation)} failed on ${this.description}: ${messageOf(error)}`, {
      cause: error,
    });
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new Error(`${this.where(operation)}: the queue is closed`);
  }
}

function checkDelay(value: number | undefined, where: string): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where}: delayMs must be a number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function isHeaderValue(value: string): boolean {
  return value.length > 0 && !/[\r\n]/.test(value) && value === value.trim();
}
