import { createHash, randomUUID } from "node:crypto";
import type {
  DeadLetter,
  MessageAttributes,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
} from "@aat/core";
import { installZodDefaults } from "@aat/core/zod-defaults";
import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import * as z from "zod/mini";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

/** The parts of the SDK's ServiceBusSender the adapter uses (a fake implements exactly these in tests). */
export type SenderPort = Pick<ServiceBusSender, "sendMessages" | "close">;
/** The parts of the SDK's ServiceBusReceiver (and session receiver) the adapter uses. */
export type ReceiverPort = Pick<
  ServiceBusReceiver,
  | "receiveMessages"
  | "peekMessages"
  | "completeMessage"
  | "abandonMessage"
  | "deadLetterMessage"
  | "renewMessageLock"
  | "close"
>;
/** The parts of the SDK's ServiceBusClient the adapter uses. */
export interface ClientPort {
  createSender(queueName: string): SenderPort;
  createReceiver(
    queueName: string,
    options?: { receiveMode?: "peekLock"; subQueueType?: "deadLetter" },
  ): ReceiverPort;
  acceptNextSession(
    queueName: string,
    options?: { maxAutoLockRenewalDurationInMs?: number },
  ): Promise<ReceiverPort>;
  close(): Promise<void>;
}

/** Application properties the adapter owns (removed from `QueueMessage.attributes`). */
export const PROPERTY = {
  /** The port's message id, stable across the copies a delayed nack or a redrive sends. */
  id: "aat-id",
  dedupeId: "aat-dedupe-id",
  /** Deliveries before this copy (a delayed nack re-sends the message; the broker's count restarts). */
  priorDeliveries: "aat-prior-deliveries",
  publishedAt: "aat-published-at",
  deadAt: "aat-dead-at",
} as const;
const OWN = new Set<string>(Object.values(PROPERTY));

/** Service Bus limits: dead-letter reason and description are strings the broker stores as properties. */
const MAX_REASON = 256;
const MAX_DESCRIPTION = 4096;
/** No session (or no message) within the wait: not an error for `receive`. */
const NOTHING_TO_LOCK = new Set(["ServiceTimeout", "SessionCannotBeLocked"]);

const optionsSchema = z.strictObject({
  /** Queue name (1–260 of letters, digits, . - _ /). */
  name: z
    .string()
    .check(
      z.regex(
        /^[A-Za-z0-9][\w./-]{0,259}$/,
        "name must be a Service Bus queue name (letters, digits, . - _ /)",
      ),
    ),
  /** The queue's MaxDeliveryCount (default 5): the broker dead-letters after it. */
  maxDeliveries: z.optional(z.number().check(z.int(), z.positive(), z.maximum(2000))),
  /**
   * The queue has sessions (RequiresSession): every message gets a sessionId (the orderingKey, the run
   * id for step messages) and receive locks the next session, so one run's steps go to one consumer
   * at a time, in order.
   */
  sessions: z.optional(z.boolean()),
  /** Session id for messages published without an orderingKey on a session queue (default "aat"). */
  defaultSessionId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

export type ServiceBusQueueOptions = z.input<typeof optionsSchema>;

interface Held {
  message: ServiceBusReceivedMessage;
  receiver: ReceiverPort;
  /** The session receiver to close once all of its deliveries are settled (session queues). */
  session?: { receiver: ReceiverPort; open: number };
  /** The pending lock renewal of an extendLease longer than one LockDuration. */
  renewal?: ReturnType<typeof setTimeout>;
}

/**
 * Queue on Azure Service Bus (peek-lock). What the port asks for maps onto the broker like this:
 * - dedupeId → `messageId`: the queue's duplicate detection (RequiresDuplicateDetection, window set on
 *   the queue) drops a second message with the same id; the SDK does not report it, so `duplicate` is
 *   always false.
 * - orderingKey → `sessionId` on session queues (one run's steps locked by one consumer at a time).
 * - delayMs → `scheduledEnqueueTimeUtc` (the broker holds the message until then).
 * - lease → the queue's LockDuration (at most 5 minutes); extendLease renews the lock
 *   (`renewMessageLock`, by one LockDuration whatever `ms` asks).
 * - nack → `abandonMessage` (available again now); a delayed nack sends a scheduled copy and completes
 *   the original (Service Bus cannot abandon with a delay), carrying the delivery count along.
 * - deadLetter → `deadLetterMessage` with deadLetterReason (the reason's first line) and
 *   deadLetterErrorDescription (the whole reason); the broker also dead-letters after MaxDeliveryCount.
 */
export class ServiceBusQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  private readonly sessions: boolean;
  private readonly defaultSessionId: string;
  private readonly sender: SenderPort;
  private readonly receiver: ReceiverPort;
  private readonly deadReceiver: ReceiverPort;
  private readonly held = new Map<string, Held>();
  private closed = false;

  constructor(
    private readonly client: ClientPort,
    options: ServiceBusQueueOptions,
  ) {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success)
      throw new TypeError(`ServiceBusQueue options are invalid: ${z.prettifyError(parsed.error)}`);
    this.name = parsed.data.name;
    this.maxDeliveries = parsed.data.maxDeliveries ?? 5;
    this.sessions = parsed.data.sessions ?? false;
    this.defaultSessionId = parsed.data.defaultSessionId ?? "aat";
    this.sender = client.createSender(this.name);
    this.receiver = client.createReceiver(this.name, { receiveMode: "peekLock" });
    this.deadReceiver = client.createReceiver(this.name, {
      receiveMode: "peekLock",
      subQueueType: "deadLetter",
    });
  }

  /** Opens a queue with the SDK (imported here only: it is slow to load) from a connection string. */
  static async connect<T = unknown>(
    options: ServiceBusQueueOptions & { connectionString: string },
  ): Promise<ServiceBusQueue<T>> {
    const { connectionString, ...rest } = options;
    if (!/Endpoint=sb:\/\//i.test(connectionString)) {
      throw new TypeError(
        "ServiceBusQueue: the connection string must be a Service Bus one (Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...)",
      );
    }
    const { ServiceBusClient: Client } = await import("./sdk.js");
    const client: ServiceBusClient = new Client(connectionString);
    return new ServiceBusQueue<T>(client as unknown as ClientPort, rest);
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen();
    const attributes = options.attributes ?? {};
    for (const name of Object.keys(attributes)) {
      if (OWN.has(name))
        throw new TypeError(`ServiceBusQueue.publish: attribute ${name} is reserved for the adapter`);
    }
    const id = options.dedupeId ?? randomUUID();
    const message: ServiceBusMessage = {
      body,
      contentType: "application/json",
      // Duplicate detection keys on messageId (at most 128 characters).
      messageId: options.dedupeId === undefined ? id : messageIdFor(options.dedupeId),
      applicationProperties: {
        ...attributes,
        [PROPERTY.id]: id,
        [PROPERTY.publishedAt]: Date.now(),
        ...(options.dedupeId === undefined ? {} : { [PROPERTY.dedupeId]: options.dedupeId }),
      },
      ...(this.sessions ? { sessionId: options.orderingKey ?? this.defaultSessionId } : {}),
      ...(options.delayMs !== undefined && options.delayMs > 0
        ? { scheduledEnqueueTimeUtc: new Date(Date.now() + options.delayMs) }
        : {}),
    };
    await this.sender.sendMessages(message);
    return { messageId: id, duplicate: false };
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    this.assertOpen();
    const max = options.maxMessages ?? 1;
    const maxWaitTimeInMs = Math.max(1, options.waitMs ?? 0);
    let receiver = this.receiver;
    let session: Held["session"];
    if (this.sessions) {
      try {
        receiver = await this.client.acceptNextSession(this.name, { maxAutoLockRenewalDurationInMs: 0 });
      } catch (error) {
        if (NOTHING_TO_LOCK.has((error as { code?: string }).code ?? "")) return [];
        throw error;
      }
      session = { receiver, open: 0 };
    }
    const received = await receiver.receiveMessages(max, { maxWaitTimeInMs });
    const out: Array<QueueMessage<T>> = [];
    for (const message of received) {
      const delivery = this.toDelivery(message);
      if (session) session.open++;
      this.held.set(delivery.receipt, { message, receiver, ...(session ? { session } : {}) });
      if (delivery.deliveryCount > this.maxDeliveries) {
        await this.deadLetter(
          delivery,
          `delivered ${delivery.deliveryCount} times without an ack (maxDeliveries ${this.maxDeliveries})`,
        );
        continue;
      }
      out.push(delivery);
    }
    if (session && session.open === 0) await session.receiver.close();
    return out;
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    this.assertOpen();
    // A second ack of a settled delivery is harmless (the port's contract); the broker would refuse it.
    if (!this.held.has(message.receipt)) return;
    const held = this.take(message, "ack");
    await held.receiver.completeMessage(held.message);
    await this.settled(held);
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    const held = this.take(message, "nack");
    const delayMs = options.delayMs ?? 0;
    if (delayMs <= 0) {
      await held.receiver.abandonMessage(held.message);
    } else {
      // No delayed abandon in Service Bus: a scheduled copy (own messageId, so duplicate detection keeps
      // it) carries the deliveries so far, then the original is completed.
      const original = held.message;
      await this.sender.sendMessages({
        body: original.body,
        contentType: "application/json",
        messageId: messageIdFor(`${original.messageId}:retry:${message.deliveryCount}`),
        applicationProperties: {
          ...original.applicationProperties,
          [PROPERTY.priorDeliveries]: message.deliveryCount,
        },
        ...(original.sessionId === undefined ? {} : { sessionId: original.sessionId }),
        scheduledEnqueueTimeUtc: new Date(Date.now() + delayMs),
      });
      await held.receiver.completeMessage(original);
    }
    await this.settled(held);
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    this.assertOpen();
    const held = this.held.get(message.receipt);
    if (!held)
      throw new Error(
        `ServiceBusQueue.extendLease: message ${message.id} is not held (settled or lock lost)`,
      );
    // renewMessageLock extends by the queue's LockDuration; a longer `ms` is reached by renewing again
    // before each renewed lock ends (what the SDK's auto lock renewal does), until settled or closed.
    const until = Date.now() + ms;
    if (held.renewal) clearTimeout(held.renewal);
    const renew = async (): Promise<void> => {
      const lockedUntil = (await held.receiver.renewMessageLock(held.message)).getTime();
      if (lockedUntil >= until || !this.held.has(message.receipt)) return;
      held.renewal = setTimeout(
        () => {
          renew().catch(() => undefined);
        },
        Math.max(10, (lockedUntil - Date.now()) / 2),
      );
      held.renewal.unref?.();
    };
    await renew();
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    const held = this.take(message, "deadLetter");
    const firstLine = reason.split("\n", 1)[0] ?? "";
    await held.receiver.deadLetterMessage(held.message, {
      deadLetterReason: truncate(firstLine || "dead-lettered by aat", MAX_REASON),
      deadLetterErrorDescription: truncate(reason, MAX_DESCRIPTION),
      [PROPERTY.deadAt]: Date.now(),
    });
    await this.settled(held);
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen();
    const peeked = await this.deadReceiver.peekMessages(options.limit ?? 100);
    return peeked.map((message) => {
      const delivery = this.toDelivery(message);
      const props = message.applicationProperties ?? {};
      return {
        id: delivery.id,
        body: delivery.body,
        attributes: delivery.attributes,
        ...(delivery.dedupeId === undefined ? {} : { dedupeId: delivery.dedupeId }),
        deliveryCount: delivery.deliveryCount,
        reason: message.deadLetterErrorDescription ?? message.deadLetterReason ?? "",
        deadLetteredAt: Number(props[PROPERTY.deadAt] ?? message.enqueuedTimeUtc?.getTime() ?? 0),
      };
    });
  }

  async redrive(deadLetterId: string): Promise<void> {
    this.assertOpen();
    const received = await this.deadReceiver.receiveMessages(100, { maxWaitTimeInMs: 1000 });
    const found = received.find((message) => this.toDelivery(message).id === deadLetterId);
    for (const other of received) if (other !== found) await this.deadReceiver.abandonMessage(other);
    if (!found)
      throw new Error(
        `ServiceBusQueue.redrive: no dead letter ${deadLetterId} in ${this.name}/$deadletterqueue`,
      );
    const {
      [PROPERTY.deadAt]: _at,
      [PROPERTY.priorDeliveries]: _prior,
      ...props
    } = found.applicationProperties ?? {};
    await this.sender.sendMessages({
      body: found.body,
      contentType: "application/json",
      // A new messageId: the original is still inside the duplicate detection window.
      messageId: messageIdFor(`${found.messageId}:redrive:${Date.now()}`),
      applicationProperties: props,
      ...(found.sessionId === undefined ? {} : { sessionId: found.sessionId }),
    });
    await this.deadReceiver.completeMessage(found);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.receiver.peekMessages(1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sessions = new Set(
      [...this.held.values()].flatMap((held) => (held.session ? [held.session.receiver] : [])),
    );
    for (const held of this.held.values()) if (held.renewal) clearTimeout(held.renewal);
    this.held.clear();
    for (const receiver of sessions) await receiver.close().catch(() => undefined);
    await this.sender.close();
    await this.receiver.close();
    await this.deadReceiver.close();
    await this.client.close();
  }

  private toDelivery(message: ServiceBusReceivedMessage): QueueMessage<T> {
    const props = message.applicationProperties ?? {};
    const attributes: MessageAttributes = {};
    for (const [name, value] of Object.entries(props)) {
      if (!OWN.has(name) && value !== null && value !== undefined) attributes[name] = String(value);
    }
    const dedupeId = props[PROPERTY.dedupeId];
    const prior = Number(props[PROPERTY.priorDeliveries] ?? 0);
    return {
      id: String(props[PROPERTY.id] ?? message.messageId ?? ""),
      body: message.body as T,
      attributes,
      ...(dedupeId === undefined ? {} : { dedupeId: String(dedupeId) }),
      deliveryCount: prior + (message.deliveryCount ?? 1),
      publishedAt: Number(props[PROPERTY.publishedAt] ?? message.enqueuedTimeUtc?.getTime() ?? 0),
      receipt: message.lockToken ?? `${message.messageId}:${message.sequenceNumber?.toString() ?? ""}`,
    };
  }

  private take(message: QueueMessage<T>, what: string): Held {
    this.assertOpen();
    const held = this.held.get(message.receipt);
    if (!held)
      throw new Error(
        `ServiceBusQueue.${what}: message ${message.id} is not held (already settled or lock lost)`,
      );
    this.held.delete(message.receipt);
    if (held.renewal) clearTimeout(held.renewal);
    return held;
  }

  private async settled(held: Held): Promise<void> {
    if (!held.session) return;
    held.session.open--;
    if (held.session.open === 0) await held.session.receiver.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`ServiceBusQueue ${this.name} is closed`);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Service Bus message ids are at most 128 characters: longer ids are hashed (still deterministic). */
function messageIdFor(id: string): string {
  if (id.length <= 128) return id;
  return `sha256:${createHash("sha256").update(id).digest("hex")}`;
}
