import { createHash, randomUUID } from "node:crypto";
import { type AwsJsonClient, isAwsError } from "@aat/adapter-aws-json";
import { PublishDedupe } from "@aat/core/dedupe";
import {
  type Clock,
  type DeadLetter,
  type MessageAttributes,
  type PublishOptions,
  type PublishResult,
  type Queue,
  type QueueMessage,
  type ReceiveOptions,
  systemClock,
} from "@aat/core/ports";
import { z } from "zod";
import type { ClaimCheckStore } from "./claim-check.js";
import { decodeAttributes, type Envelope, encodeAttributes, messageBytes } from "./envelope.js";
import { lambdaRecordToMessage, type SqsLambdaRecord, sqsLambdaRecordSchema } from "./lambda-record.js";
import {
  connectOptionsSchema,
  destroyOptionsSchema,
  parseOptions,
  type SqsQueueDestroyOptions,
  type SqsQueueOptions,
} from "./options.js";
import { openSqsClient } from "./transport.js";
import type {
  QueueAttributesOutput,
  QueueUrlOutput,
  ReceiveMessageOutput,
  SendMessageOutput,
  SqsMessage,
} from "./wire.js";

/** SQS's message size limit (body plus attributes). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** SQS's longest native per-message delay (DelaySeconds). */
export const MAX_NATIVE_DELAY_MS = 15 * 60_000;
/** SQS's longest visibility timeout. */
export const MAX_VISIBILITY_MS = 12 * 60 * 60_000;
/** SQS FIFO's fixed duplicate window. */
const FIFO_DEDUPE_WINDOW_MS = 5 * 60_000;
const MAX_WAIT_SECONDS = 20;

interface Target {
  url: string;
  fifo: boolean;
}

const seconds = (ms: number) => Math.ceil(Math.max(0, ms) / 1000);

/** A FIFO MessageDeduplicationId: at most 128 characters from a limited set, so the dedupeId is hashed. */
const hashId = (value: string) => createHash("sha256").update(value).digest("hex");

/**
 * Queue port on Amazon SQS.
 *
 * - Standard queues: dedupe through the core DedupeService on `kv`; FIFO queues: SQS's own 5-minute
 *   MessageDeduplicationId window, MessageGroupId = orderingKey (else one group per message, so nothing
 *   waits behind a message it does not need to).
 * - Delays: SQS delays natively up to 15 minutes (standard queues). Longer delays, and every delay on FIFO
 *   queues (which have no per-message delay), carry a not-before time in the envelope: a standard queue
 *   re-publishes a message received early with the remaining delay; a FIFO queue hides it (visibility) until
 *   due, then re-publishes it as a fresh message so the hiding does not count as deliveries.
 * - Dead letters: a redrive policy on "<name>-dlq" with maxReceiveCount = maxDeliveries; `deadLetter` sends
 *   there with a reason; `listDeadLetters` peeks with a zero visibility timeout; `redrive` moves one back.
 * - Payloads over 256 KiB go to S3 (claim check) and are fetched on receive.
 * - Every SQS call goes through an AwsJsonClient in the JSON protocol's shapes: the REST client (HTTPS +
 *   SigV4, no AWS SDK loaded) or the SDK-backed one (sdk-client.ts, loaded only when chosen); see
 *   transport.ts for how `transport: "auto"` picks.
 */
export class SqsQueue<T = unknown> implements Queue<T> {
  readonly maxDeliveries: number;

  private constructor(
    readonly name: string,
    /** How this queue speaks to SQS: "rest" (no AWS SDK loaded) or "sdk". */
    readonly transport: "sdk" | "rest",
    private readonly client: AwsJsonClient,
    private readonly main: Target,
    private readonly dlq: Target,
    private readonly visibilityTimeoutMs: number,
    maxDeliveries: number,
    private readonly dedupe: PublishDedupe | undefined,
    private readonly dedupeOff: boolean,
    private readonly claims: ClaimCheckStore | undefined,
    private readonly clock: Clock,
  ) {
    this.maxDeliveries = maxDeliveries;
  }

  /**
   * Creates (or reuses) the queue and its dead-letter queue, wiring the redrive policy; with
   * `provision: false`, opens the queue a deployment made, as it is.
   */
  static async connect<T = unknown>(input: SqsQueueOptions): Promise<SqsQueue<T>> {
    const options = parseOptions(connectOptionsSchema, input, "SqsQueue.connect");
    const fifo = options.fifo ?? false;
    let visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    let maxDeliveries = options.maxDeliveries ?? 5;
    const clock = options.clock ?? systemClock;
    const { client, transport } = await openSqsClient(options, process.env);
    const suffix = fifo ? ".fifo" : "";
    const where = `SqsQueue ${options.name}${suffix}`;

    let mainUrl: string;
    let dlqUrl: string;
    if (options.provision === false) {
      const deployed = await openDeployed(client, `${options.name}${suffix}`, options.queueUrl, where);
      mainUrl = deployed.url;
      dlqUrl = deployed.deadLetterUrl;
      visibilityTimeoutMs = deployed.visibilityTimeoutMs ?? visibilityTimeoutMs;
      maxDeliveries = deployed.maxReceiveCount;
    } else {
      ({ mainUrl, dlqUrl, visibilityTimeoutMs, maxDeliveries } = await provision(
        client,
        options.name,
        fifo,
        visibilityTimeoutMs,
        maxDeliveries,
        where,
      ));
    }

    const dedupeWindowMs = fifo ? FIFO_DEDUPE_WINDOW_MS : (options.dedupeWindowMs ?? FIFO_DEDUPE_WINDOW_MS);
    const dedupe =
      !fifo && options.kv && dedupeWindowMs > 0
        ? new PublishDedupe(
            options.kv,
            options.dedupePrefix ?? `sqs/${options.name}/dedupe/`,
            dedupeWindowMs,
            clock,
            where,
          )
        : undefined;

    let claims: ClaimCheckStore | undefined;
    if (options.claimCheck) {
      // The S3 client is loaded only for a queue with a claim check (a bundle keeps it in its own chunk).
      const { ClaimCheckStore, S3Client } = await import("./claim-check.js");
      const s3 =
        options.claimCheck.client ??
        // Path-style addressing works with every endpoint, emulators included.
        new S3Client({
          ...(options.region ? { region: options.region } : {}),
          ...(options.endpoint ? { endpoint: options.endpoint } : {}),
          ...(options.credentials ? { credentials: options.credentials } : {}),
          forcePathStyle: Boolean(options.endpoint),
        });
      claims = new ClaimCheckStore(
        s3,
        options.claimCheck.bucket,
        options.claimCheck.prefix ?? `aat-claims/${options.name}/`,
      );
      if (options.claimCheck.create) await claims.ensureBucket();
    }

    return new SqsQueue<T>(
      `${options.name}${suffix}`,
      transport,
      client,
      { url: mainUrl, fifo },
      { url: dlqUrl, fifo },
      visibilityTimeoutMs,
      maxDeliveries,
      dedupe,
      !fifo && dedupeWindowMs === 0,
      claims,
      clock,
    );
  }

  /** Deletes the queue and its dead-letter queue (missing ones are fine). */
  static async destroy(input: SqsQueueDestroyOptions): Promise<void> {
    const options = parseOptions(destroyOptionsSchema, input, "SqsQueue.destroy");
    const { client } = await openSqsClient(options, process.env);
    const suffix = options.fifo ? ".fifo" : "";
    try {
      for (const queueName of [`${options.name}${suffix}`, `${options.name}-dlq${suffix}`]) {
        try {
          const { QueueUrl } = await client.call<QueueUrlOutput>("GetQueueUrl", { QueueName: queueName });
          await client.call("DeleteQueue", { QueueUrl });
        } catch (error) {
          if (!isAwsError(error, "QueueDoesNotExist")) throw error;
        }
      }
    } finally {
      client.destroy();
    }
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    const text = JSON.stringify(body);
    if (text === undefined)
      throw new TypeError(`SqsQueue ${this.name}: publish needs a JSON-serialisable body`);
    const envelope: Envelope = { p: this.clock.now() };
    if (options.dedupeId !== undefined) envelope.d = options.dedupeId;
    const send = () => this.send(this.main, text, options.attributes ?? {}, envelope, options);
    if (options.dedupeId !== undefined && this.dedupe) {
      return this.dedupe.publishOnce(options.dedupeId, send);
    }
    if (options.dedupeId !== undefined && !this.main.fifo && !this.dedupeOff) {
      throw new Error(
        `SqsQueue ${this.name}: publishing with a dedupeId on a standard queue needs a KeyValue store; ` +
          "pass kv (e.g. a DynamoKeyValue), use a FIFO queue, or set dedupeWindowMs: 0",
      );
    }
    return { messageId: await send(), duplicate: false };
  }

  /**
   * Sends one message, storing the body in S3 first when the message would exceed 256 KiB, and turning a
   * delay into DelaySeconds (standard, ≤ 15 min) or a not-before time in the envelope.
   */
  private async send(
    target: Target,
    text: string,
    attributes: MessageAttributes,
    baseEnvelope: Envelope,
    options: {
      dedupeId?: string | undefined;
      delayMs?: number | undefined;
      orderingKey?: string | undefined;
    },
  ): Promise<string> {
    const envelope: Envelope = { ...baseEnvelope };
    const delayMs = Math.max(0, options.delayMs ?? 0);
    let delaySeconds: number | undefined;
    if (delayMs > 0) {
      if (!target.fifo && delayMs <= MAX_NATIVE_DELAY_MS) {
        delaySeconds = seconds(delayMs);
      } else {
        envelope.nb = this.clock.now() + delayMs;
        if (!target.fifo) delaySeconds = seconds(MAX_NATIVE_DELAY_MS);
      }
    }
    let messageBody = text;
    let native = encodeAttributes(attributes, envelope);
    if (messageBytes(messageBody, native) > MAX_MESSAGE_BYTES) {
      if (!this.claims) {
        throw new Error(
          `SqsQueue ${this.name}: the message is ${messageBytes(messageBody, native)} bytes, over SQS's ` +
            `${MAX_MESSAGE_BYTES}; configure claimCheck (an S3 bucket) to send large payloads by reference`,
        );
      }
      envelope.c = await this.claims.put(text);
      messageBody = JSON.stringify({ aatClaimCheck: `s3://${envelope.c.b}/${envelope.c.k}` });
      native = encodeAttributes(attributes, envelope);
    }
    const sent = await this.client.call<SendMessageOutput>("SendMessage", {
      QueueUrl: target.url,
      MessageBody: messageBody,
      MessageAttributes: native,
      ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
      ...(target.fifo
        ? {
            MessageGroupId: options.orderingKey ?? randomUUID(),
            MessageDeduplicationId: options.dedupeId !== undefined ? hashId(options.dedupeId) : randomUUID(),
          }
        : {}),
    });
    if (!sent.MessageId) throw new Error(`SqsQueue ${this.name}: SendMessage returned no MessageId`);
    return sent.MessageId;
  }

  /**
   * Receives from one queue object run one at a time. Concurrent ReceiveMessage calls from one process gain
   * nothing over one call returning up to 10, and moto hands the same message to two overlapping calls.
   */
  private receiving: Promise<unknown> = Promise.resolve();

  receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    const next = this.receiving.then(() => this.receiveNow(options));
    this.receiving = next.catch(() => undefined);
    return next;
  }

  private async receiveNow(options: ReceiveOptions): Promise<Array<QueueMessage<T>>> {
    const maxMessages = Math.max(1, Math.min(10, options.maxMessages ?? 1));
    const deadline = Date.now() + Math.max(0, options.waitMs ?? 0);
    for (;;) {
      const waitSeconds = Math.min(MAX_WAIT_SECONDS, seconds(deadline - Date.now()));
      const { Messages } = await this.client.call<ReceiveMessageOutput>("ReceiveMessage", {
        QueueUrl: this.main.url,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: seconds(this.visibilityTimeoutMs),
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      });
      const delivered: Array<QueueMessage<T>> = [];
      for (const raw of Messages ?? []) {
        const message = await this.accept(raw);
        if (message) delivered.push(message);
      }
      if (delivered.length > 0 || Date.now() >= deadline) return delivered;
    }
  }

  /**
   * Decodes one record of a Lambda SQS event (the event source mapping received it instead of this
   * queue's `receive`) exactly as `receive` decodes its own messages: claim check fetched, not-before
   * delays honoured (re-published or hidden), delivery count checked against maxDeliveries, unreadable
   * messages moved to the dead-letter queue. Returns the delivery to handle and then settle with `ack`,
   * `nack` or `deadLetter`, or undefined when the adapter already dealt with the record (nothing to
   * handle, and the record is gone from the queue). A record that is not an SQS record throws a
   * TypeError naming the problem (report it as a batch item failure).
   */
  async decodeLambdaRecord(
    record: SqsLambdaRecord | Record<string, unknown>,
  ): Promise<QueueMessage<T> | undefined> {
    const parsed = sqsLambdaRecordSchema.safeParse(record);
    if (!parsed.success) {
      throw new TypeError(`${this.name}: not a Lambda SQS event record: ${z.prettifyError(parsed.error)}`);
    }
    return this.accept(lambdaRecordToMessage(parsed.data));
  }

  /** Turns a received SQS message into a delivery, or handles it (not due yet, malformed) and returns none. */
  private async accept(raw: SqsMessage): Promise<QueueMessage<T> | undefined> {
    const receipt = raw.ReceiptHandle ?? "";
    const receiveCount = Number(raw.Attributes?.ApproximateReceiveCount ?? "1");
    let decoded: ReturnType<typeof decodeAttributes>;
    let body: T;
    try {
      decoded = decodeAttributes(raw.MessageAttributes);
      const text = decoded.envelope.c ? await this.fetchClaim(decoded.envelope.c) : (raw.Body ?? "");
      body = JSON.parse(text) as T;
    } catch (error) {
      // Not something this adapter published (or damaged): keep it in the dead-letter queue, never drop it.
      await this.moveToDeadLetters(raw, `unreadable message: ${(error as Error).message}`, receiveCount);
      return undefined;
    }
    const { attributes, envelope } = decoded;
    const now = this.clock.now();
    if (envelope.nb !== undefined) {
      if (envelope.nb > now) {
        if (this.main.fifo) {
          await this.changeVisibility(receipt, Math.min(envelope.nb - now, MAX_VISIBILITY_MS));
        } else {
          await this.republish(raw, envelope, attributes, envelope.nb - now);
        }
        return undefined;
      }
      if (this.main.fifo) {
        // Due now, after hiding: a fresh message so the hidden receives do not count as deliveries.
        await this.republish(raw, envelope, attributes, 0);
        return undefined;
      }
    }
    const deliveryCount = (envelope.pd ?? 0) + receiveCount;
    if (deliveryCount > this.maxDeliveries) {
      await this.moveToDeadLetters(
        raw,
        `delivered ${deliveryCount - 1} times without ack`,
        deliveryCount - 1,
      );
      return undefined;
    }
    const message: QueueMessage<T> = {
      id: raw.MessageId ?? "",
      body,
      attributes,
      deliveryCount,
      publishedAt: envelope.p ?? Number(raw.Attributes?.SentTimestamp ?? now),
      receipt,
    };
    if (envelope.d !== undefined) message.dedupeId = envelope.d;
    return message;
  }

  private fetchClaim(claim: { b: string; k: string }): Promise<string> {
    if (!this.claims) {
      throw new Error(
        `the body is in s3://${claim.b}/${claim.k} but this queue has no claimCheck configured`,
      );
    }
    return this.claims.get(claim);
  }

  /** Sends the raw message again (same body or claim, carried envelope) with a delay, then deletes it. */
  private async republish(
    raw: SqsMessage,
    envelope: Envelope,
    attributes: MessageAttributes,
    delayMs: number,
  ) {
    const { nb: _notBefore, a: _extra, ...carried } = envelope;
    await this.sendRaw(this.main, raw.Body ?? "", attributes, carried, delayMs);
    await this.deleteReceipt(this.main, raw.ReceiptHandle ?? "");
  }

  /** Sends an already-encoded body (a claim-check reference stays a reference). */
  private async sendRaw(
    target: Target,
    messageBody: string,
    attributes: MessageAttributes,
    envelope: Envelope,
    delayMs: number,
  ): Promise<string> {
    const withDelay: Envelope = { ...envelope };
    let delaySeconds: number | undefined;
    if (delayMs > 0) {
      if (!target.fifo && delayMs <= MAX_NATIVE_DELAY_MS) delaySeconds = seconds(delayMs);
      else {
        withDelay.nb = this.clock.now() + delayMs;
        if (!target.fifo) delaySeconds = seconds(MAX_NATIVE_DELAY_MS);
      }
    }
    const sent = await this.client.call<SendMessageOutput>("SendMessage", {
      QueueUrl: target.url,
      MessageBody: messageBody,
      MessageAttributes: encodeAttributes(attributes, withDelay),
      ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
      ...(target.fifo ? { MessageGroupId: randomUUID(), MessageDeduplicationId: randomUUID() } : {}),
    });
    return sent.MessageId ?? "";
  }

  private async moveToDeadLetters(raw: SqsMessage, reason: string, deliveryCount: number): Promise<void> {
    let attributes: MessageAttributes = {};
    let envelope: Envelope = {};
    try {
      ({ attributes, envelope } = decodeAttributes(raw.MessageAttributes));
    } catch {
      // A malformed envelope: keep the caller attributes SQS still has.
      for (const [name, value] of Object.entries(raw.MessageAttributes ?? {})) {
        if (name !== "aat" && value.StringValue !== undefined) attributes[name] = value.StringValue;
      }
    }
    const { nb: _notBefore, pd: _prior, a: _extra, ...carried } = envelope;
    await this.sendRaw(this.dlq, raw.Body ?? "", attributes, { ...carried, r: reason, dc: deliveryCount }, 0);
    await this.deleteReceipt(this.main, raw.ReceiptHandle ?? "");
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    await this.deleteReceipt(this.main, message.receipt);
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    const delayMs = Math.max(0, options.delayMs ?? 0);
    if (delayMs <= MAX_VISIBILITY_MS) {
      await this.changeVisibility(message.receipt, delayMs);
      return;
    }
    // Longer than SQS can hide a message: send it again with the delay, remembering its deliveries.
    const envelope: Envelope = { p: message.publishedAt, pd: message.deliveryCount };
    if (message.dedupeId !== undefined) envelope.d = message.dedupeId;
    await this.send(this.main, JSON.stringify(message.body), message.attributes, envelope, { delayMs });
    await this.deleteReceipt(this.main, message.receipt);
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    await this.changeVisibility(message.receipt, Math.min(ms, MAX_VISIBILITY_MS));
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    const envelope: Envelope = { p: message.publishedAt, r: reason, dc: message.deliveryCount };
    if (message.dedupeId !== undefined) envelope.d = message.dedupeId;
    await this.send(this.dlq, JSON.stringify(message.body), message.attributes, envelope, {});
    await this.deleteReceipt(this.main, message.receipt);
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    const limit = Math.max(1, options.limit ?? 100);
    const found = new Map<string, DeadLetter<T>>();
    // A zero visibility timeout peeks without hiding; SQS samples servers, so ask until nothing new comes.
    for (let round = 0; round < Math.ceil(limit / 10) + 2 && found.size < limit; round++) {
      const { Messages } = await this.client.call<ReceiveMessageOutput>("ReceiveMessage", {
        QueueUrl: this.dlq.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
      });
      let fresh = 0;
      for (const raw of Messages ?? []) {
        if (!raw.MessageId || found.has(raw.MessageId)) continue;
        found.set(raw.MessageId, await this.toDeadLetter(raw));
        fresh++;
      }
      if (fresh === 0) break;
    }
    return [...found.values()].slice(0, limit);
  }

  private async toDeadLetter(raw: SqsMessage): Promise<DeadLetter<T>> {
    let attributes: MessageAttributes = {};
    let envelope: Envelope = {};
    let body: T;
    try {
      ({ attributes, envelope } = decodeAttributes(raw.MessageAttributes));
      body = JSON.parse(envelope.c ? await this.fetchClaim(envelope.c) : (raw.Body ?? "")) as T;
    } catch {
      body = raw.Body as T;
    }
    const letter: DeadLetter<T> = {
      id: raw.MessageId ?? "",
      body,
      attributes,
      // Moved by the redrive policy: SQS received it maxReceiveCount times.
      deliveryCount: envelope.dc ?? this.maxDeliveries,
      reason: envelope.r ?? `delivered ${this.maxDeliveries} times without ack (SQS redrive policy)`,
      deadLetteredAt: Number(raw.Attributes?.SentTimestamp ?? this.clock.now()),
    };
    if (envelope.d !== undefined) letter.dedupeId = envelope.d;
    return letter;
  }

  async redrive(deadLetterId: string): Promise<void> {
    const held: SqsMessage[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        const { Messages } = await this.client.call<ReceiveMessageOutput>("ReceiveMessage", {
          QueueUrl: this.dlq.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 30,
          MessageAttributeNames: ["All"],
        });
        if (!Messages || Messages.length === 0) break;
        const target = Messages.find((raw) => raw.MessageId === deadLetterId);
        held.push(...Messages.filter((raw) => raw !== target));
        if (target) {
          let attributes: MessageAttributes = {};
          let envelope: Envelope = {};
          try {
            ({ attributes, envelope } = decodeAttributes(target.MessageAttributes));
          } catch {
            // Redrive it as it is; the receiver will dead-letter it again with the reason.
          }
          const { r: _reason, dc: _count, pd: _prior, nb: _notBefore, a: _extra, ...carried } = envelope;
          await this.sendRaw(this.main, target.Body ?? "", attributes, carried, 0);
          await this.deleteReceipt(this.dlq, target.ReceiptHandle ?? "");
          return;
        }
      }
      throw new Error(`SqsQueue ${this.name}: no dead letter with id ${JSON.stringify(deadLetterId)}`);
    } finally {
      await Promise.all(
        held.map((raw) =>
          this.client
            .call("ChangeMessageVisibility", {
              QueueUrl: this.dlq.url,
              ReceiptHandle: raw.ReceiptHandle,
              VisibilityTimeout: 0,
            })
            .catch(() => undefined),
        ),
      );
    }
  }

  async ping(): Promise<void> {
    await this.client.call("GetQueueAttributes", { QueueUrl: this.main.url, AttributeNames: ["QueueArn"] });
  }

  async depth(): Promise<number> {
    const { Attributes } = await this.client.call<QueueAttributesOutput>("GetQueueAttributes", {
      QueueUrl: this.main.url,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    });
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  /** Frees the SDK client this queue made (a client passed in stays open; the REST client holds nothing). */
  async close(): Promise<void> {
    this.client.destroy();
  }

  private async changeVisibility(receipt: string, ms: number): Promise<void> {
    await this.client.call("ChangeMessageVisibility", {
      QueueUrl: this.main.url,
      ReceiptHandle: receipt,
      VisibilityTimeout: seconds(ms),
    });
  }

  private async deleteReceipt(target: Target, receipt: string): Promise<void> {
    await this.client.call("DeleteMessage", { QueueUrl: target.url, ReceiptHandle: receipt });
  }
}

/** Creates (or opens) "<name>-dlq" and "<name>" with the redrive policy between them. */
async function provision(
  client: AwsJsonClient,
  name: string,
  fifo: boolean,
  visibilityTimeoutMs: number,
  maxDeliveries: number,
  where: string,
): Promise<{ mainUrl: string; dlqUrl: string; visibilityTimeoutMs: number; maxDeliveries: number }> {
  const suffix = fifo ? ".fifo" : "";
  const fifoAttributes: Record<string, string> = fifo
    ? { FifoQueue: "true", ContentBasedDeduplication: "false" }
    : {};
  const dlqUrl = (
    await createOrOpen(client, `${name}-dlq${suffix}`, {
      ...fifoAttributes,
      MessageRetentionPeriod: String(14 * 24 * 3600),
    })
  ).url;
  if (!dlqUrl) throw new Error(`${where}: CreateQueue returned no URL for the dead-letter queue`);
  const dlqArn = (
    await client.call<QueueAttributesOutput>("GetQueueAttributes", {
      QueueUrl: dlqUrl,
      AttributeNames: ["QueueArn"],
    })
  ).Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`${where}: the dead-letter queue has no QueueArn`);
  const main = await createOrOpen(client, `${name}${suffix}`, {
    ...fifoAttributes,
    VisibilityTimeout: String(seconds(visibilityTimeoutMs)),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: maxDeliveries }),
  });
  const mainUrl = main.url;
  if (!mainUrl) throw new Error(`${where}: CreateQueue returned no URL`);
  // A queue made by someone else (infrastructure as code) keeps its settings: the lease and the
  // delivery count the adapter works with are the queue's own, not this process's defaults.
  if (main.existing) {
    const deployed = await deployedSettings(client, mainUrl);
    visibilityTimeoutMs = deployed.visibilityTimeoutMs ?? visibilityTimeoutMs;
    maxDeliveries = deployed.maxReceiveCount ?? maxDeliveries;
  }
  return { mainUrl, dlqUrl, visibilityTimeoutMs, maxDeliveries };
}

/**
 * CreateQueue, which returns the URL of an existing queue with the same attributes; when the queue
 * exists with other attributes (SQS: QueueNameExists, formerly QueueAlreadyExists) — one a deployment
 * made with its own settings — it is opened as it is.
 */
async function createOrOpen(
  client: AwsJsonClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string | undefined; existing: boolean }> {
  try {
    const created = await client.call<QueueUrlOutput>("CreateQueue", {
      QueueName: name,
      Attributes: attributes,
    });
    return { url: created.QueueUrl, existing: false };
  } catch (error) {
    if (!isAwsError(error, "QueueNameExists", "QueueAlreadyExists")) throw error;
    const opened = await client.call<QueueUrlOutput>("GetQueueUrl", { QueueName: name });
    return { url: opened.QueueUrl, existing: true };
  }
}

/**
 * Opens a queue a deployment made (`provision: false`): one GetQueueAttributes, plus GetQueueUrl when no
 * URL is given. Its dead-letter queue is its redrive policy's target; SQS keeps a dead-letter queue in the
 * queue's own account and region, so that URL is the queue's with the dead-letter queue's name last.
 */
async function openDeployed(
  client: AwsJsonClient,
  name: string,
  queueUrl: string | undefined,
  where: string,
): Promise<{ url: string; deadLetterUrl: string; visibilityTimeoutMs?: number; maxReceiveCount: number }> {
  const fix = `with provision false the deployment owns the queue: create it with a redrive policy to its dead-letter queue (infra-aws does), or set provision true (AAT_SQS_PROVISION) to let aat create both`;
  let url = queueUrl;
  let settings: Awaited<ReturnType<typeof deployedSettings>>;
  try {
    if (url === undefined)
      url = (await client.call<QueueUrlOutput>("GetQueueUrl", { QueueName: name })).QueueUrl;
    if (!url) throw new Error("GetQueueUrl returned no URL");
    settings = await deployedSettings(client, url);
  } catch (error) {
    throw new Error(
      `${where}: the queue ${url ?? name} could not be opened (${error instanceof Error ? error.message : String(error)}); ${fix}`,
      { cause: error },
    );
  }
  if (new URL(url).pathname.split("/").at(-1) !== name) {
    throw new Error(`${where}: queueUrl ${url} names another queue than "${name}"`);
  }
  const deadLetterName = settings.deadLetterArn?.split(":").at(-1);
  if (!deadLetterName || settings.maxReceiveCount === undefined) {
    throw new Error(
      `${where}: the queue ${url} has no redrive policy, so failed steps could not be dead-lettered; ${fix}`,
    );
  }
  return {
    url,
    deadLetterUrl: url.replace(/[^/]+$/, deadLetterName),
    ...(settings.visibilityTimeoutMs !== undefined
      ? { visibilityTimeoutMs: settings.visibilityTimeoutMs }
      : {}),
    maxReceiveCount: settings.maxReceiveCount,
  };
}

async function deployedSettings(
  client: AwsJsonClient,
  url: string,
): Promise<{ visibilityTimeoutMs?: number; maxReceiveCount?: number; deadLetterArn?: string }> {
  const { Attributes } = await client.call<QueueAttributesOutput>("GetQueueAttributes", {
    QueueUrl: url,
    AttributeNames: ["VisibilityTimeout", "RedrivePolicy"],
  });
  const visibility = Number(Attributes?.VisibilityTimeout);
  let maxReceiveCount: number | undefined;
  let deadLetterArn: string | undefined;
  try {
    const policy = JSON.parse(Attributes?.RedrivePolicy ?? "{}") as {
      maxReceiveCount?: unknown;
      deadLetterTargetArn?: unknown;
    };
    const count = Number(policy.maxReceiveCount);
    if (Number.isInteger(count) && count > 0) maxReceiveCount = count;
    if (typeof policy.deadLetterTargetArn === "string") deadLetterArn = policy.deadLetterTargetArn;
  } catch {
    // No readable redrive policy: keep the configured count.
  }
  return {
    ...(Number.isFinite(visibility) && visibility > 0 ? { visibilityTimeoutMs: visibility * 1000 } : {}),
    ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
    ...(deadLetterArn !== undefined ? { deadLetterArn } : {}),
  };
}
