import type {
  DeadLetter,
  KeyValue,
  MessageAttributes,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
} from "@aat/core";
import { installZodDefaults } from "@aat/core/zod-defaults";
import type { PubSub, v1 } from "@google-cloud/pubsub";
import * as z from "zod/mini";
import { ATTRIBUTE, INTERNAL_ATTRIBUTES } from "./attributes.js";
import { RestPublisher } from "./rest-publisher.js";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

/** Attributes of a message in the dead-letter topic, beside the original ones. */
const DEAD = {
  reason: "aat-dead-reason",
  at: "aat-dead-at",
  count: "aat-dead-count",
} as const;

/** Pub/Sub's own limit on modifyAckDeadline and a subscription's ack deadline. */
const MAX_DEADLINE_SECONDS = 600;
const POLL_MS = 100;

const optionsSchema = z.strictObject({
  /** Topic name (3–255 characters, a letter first); subscriptions and the dead-letter topic derive from it. */
  name: z
    .string()
    .check(
      z.regex(
        /^[A-Za-z][\w.~+%-]{2,200}$/,
        "name must be a Pub/Sub topic name: a letter, then 2–200 of letters, digits, - _ . ~ + %",
      ),
    ),
  /** Google Cloud project id (6–30 characters). */
  projectId: z
    .string()
    .check(
      z.regex(
        /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
        "projectId must be 6–30 lower-case letters, digits or dashes",
      ),
    ),
  /** host:port of the emulator (default: PUBSUB_EMULATOR_HOST, else Google's endpoint). */
  apiEndpoint: z.optional(z.string().check(z.minLength(1))),
  /** Where dedupe ids and delivery counts are kept: Pub/Sub has neither for pull subscriptions. */
  kv: z.custom<KeyValue>((value) => typeof value === "object" && value !== null && "setIfAbsent" in value, {
    error: "kv must be a KeyValue (dedupe ids and delivery counts live there)",
  }),
  visibilityTimeoutMs: z.optional(z.number().check(z.positive(), z.maximum(MAX_DEADLINE_SECONDS * 1000))),
  maxDeliveries: z.optional(z.number().check(z.int(), z.positive())),
  /**
   * Create missing topics and subscriptions at open (default true). false when a deployment owns them
   * (infra-gcp): the runtime then needs no create permission on the project.
   */
  provision: z.optional(z.boolean()),
  /** How long a dedupeId suppresses later publishes (default 10 minutes). */
  dedupeWindowMs: z.optional(z.number().check(z.int(), z.positive())),
  /**
   * Publish (and ping) through Pub/Sub's REST API, and load the client library only for what needs it
   * (pull, ack, dead-letter listing, provisioning): a function that only publishes starts ~0.4 s
   * faster. `auth`: "none" for the emulator, "metadata" on Google Cloud (a token from the metadata
   * server). Unset: the client library does everything.
   */
  rest: z.optional(z.strictObject({ auth: z.enum(["none", "metadata"]) })),
});

export type PubSubQueueOptions = z.input<typeof optionsSchema>;

type Subscriber = v1.SubscriberClient;
type Library = { pubsub: PubSub; subscriber: Subscriber };

/**
 * Queue on Google Cloud Pub/Sub with synchronous pull (tests and long-running workers). Pub/Sub lacks
 * several things the port asks for, so the adapter adds them: dedupe ids and delivery counts in the
 * KeyValue, delays as a not-before attribute (a message pulled early gets its ack deadline pushed to
 * the due time), leases and delayed nacks through modifyAckDeadline (whole seconds, at most 600), and
 * dead letters as messages on `<name>-dead` with the reason as attributes.
 */
export class PubSubQueue<T = unknown> implements Queue<T> {
  readonly name: string;
  readonly maxDeliveries: number;
  private readonly leaseSeconds: number;
  private readonly dedupeWindowMs: number;
  private readonly subscription: string;
  private readonly deadSubscription: string;
  private closed = false;

  /** The client library's objects, loaded on first need (at open unless publishing goes through REST). */
  private library: Promise<Library> | undefined;
  private readonly rest: RestPublisher | undefined;
  private readonly kv: KeyValue;

  private constructor(private readonly options: z.output<typeof optionsSchema>) {
    this.kv = options.kv;
    this.rest =
      options.rest &&
      new RestPublisher({
        projectId: options.projectId,
        // The emulator speaks plain HTTP; Google's endpoints (a regional one too) HTTPS.
        baseUrl:
          options.rest.auth === "none"
            ? `http://${options.apiEndpoint ?? "127.0.0.1:8085"}`
            : `https://${options.apiEndpoint ?? "pubsub.googleapis.com"}`,
        auth: options.rest.auth,
      });
    this.name = options.name;
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.leaseSeconds = Math.ceil((options.visibilityTimeoutMs ?? 30_000) / 1000);
    this.dedupeWindowMs = options.dedupeWindowMs ?? 600_000;
    this.subscription = `projects/${options.projectId}/subscriptions/${options.name}-work`;
    this.deadSubscription = `projects/${options.projectId}/subscriptions/${options.name}-dead-store`;
  }

  /** Loads the client library (slow to import, so only here), creates missing topics and subscriptions (unless `provision: false`). */
  static async open<T = unknown>(options: PubSubQueueOptions): Promise<PubSubQueue<T>> {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success)
      throw new TypeError(`PubSubQueue options are invalid: ${z.prettifyError(parsed.error)}`);
    const queue = new PubSubQueue<T>(parsed.data);
    const { name } = parsed.data;
    if (parsed.data.provision !== false) {
      const { pubsub } = await queue.clients();
      await ensure(() => pubsub.createTopic(name));
      await ensure(() => pubsub.createTopic(`${name}-dead`));
      await ensure(() => pubsub.topic(name).createSubscription(`${name}-work`, { ackDeadlineSeconds: 10 }));
      await ensure(() => pubsub.topic(`${name}-dead`).createSubscription(`${name}-dead-store`));
    } else if (!queue.rest) {
      await queue.clients();
    }
    return queue;
  }

  /** Loads the client library (slow to import) and builds its objects, once. */
  private clients(): Promise<Library> {
    this.library ??= (async () => {
      const { PubSub, v1 } = await import("@google-cloud/pubsub");
      const { projectId, apiEndpoint } = this.options;
      const pubsub = new PubSub({ projectId, ...(apiEndpoint ? { apiEndpoint } : {}) });
      // The same endpoint, port and (for the emulator) insecure credentials the PubSub object worked out.
      const subscriber = new v1.SubscriberClient(
        pubsub.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
      );
      return { pubsub, subscriber };
    })();
    return this.library;
  }

  /** Deletes the topics and subscriptions of a queue (tests, decommissioning), with a client of its own. */
  static async destroy(options: { name: string; projectId: string; apiEndpoint?: string }): Promise<void> {
    const { PubSub } = await import("@google-cloud/pubsub");
    const { name, projectId, apiEndpoint } = options;
    const pubsub = new PubSub({ projectId, ...(apiEndpoint ? { apiEndpoint } : {}) });
    try {
      for (const remove of [
        () => pubsub.subscription(`${name}-work`).delete(),
        () => pubsub.subscription(`${name}-dead-store`).delete(),
        () => pubsub.topic(name).delete(),
        () => pubsub.topic(`${name}-dead`).delete(),
      ]) {
        await remove().catch((error: { code?: number }) => {
          if (error.code !== 5) throw error; // NOT_FOUND: already gone
        });
      }
    } finally {
      await pubsub.close();
    }
  }

  async publish(body: T, options: PublishOptions = {}): Promise<PublishResult> {
    this.assertOpen();
    const attributes: MessageAttributes = { ...(options.attributes ?? {}) };
    for (const name of Object.keys(attributes)) {
      if (INTERNAL_ATTRIBUTES.has(name))
        throw new TypeError(`PubSubQueue.publish: attribute ${name} is reserved for the adapter`);
    }
    if (options.delayMs !== undefined && options.delayMs > 0) {
      attributes[ATTRIBUTE.notBefore] = String(Date.now() + options.delayMs);
    }
    const dedupeKey = options.dedupeId === undefined ? undefined : this.dedupeKey(options.dedupeId);
    if (options.dedupeId !== undefined && dedupeKey !== undefined) {
      attributes[ATTRIBUTE.dedupeId] = options.dedupeId;
      const claim = await this.kv.setIfAbsent<{ messageId: string | null }>(
        dedupeKey,
        { messageId: null },
        {
          ttlMs: this.dedupeWindowMs,
        },
      );
      if (!claim.ok) return { messageId: claim.current?.value.messageId ?? "", duplicate: true };
    }
    try {
      const messageId = await this.publishTo(this.name, body, attributes, options.orderingKey);
      if (dedupeKey !== undefined)
        await this.kv.set(dedupeKey, { messageId }, { ttlMs: this.dedupeWindowMs });
      return { messageId, duplicate: false };
    } catch (error) {
      if (dedupeKey !== undefined) await this.kv.delete(dedupeKey).catch(() => undefined);
      throw error;
    }
  }

  async receive(options: ReceiveOptions = {}): Promise<Array<QueueMessage<T>>> {
    this.assertOpen();
    const maxMessages = options.maxMessages ?? 1;
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      const delivered = await this.pullOnce(maxMessages);
      if (delivered.length > 0 || Date.now() + POLL_MS > deadline || this.closed) return delivered;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async ack(message: QueueMessage<T>): Promise<void> {
    this.assertOpen();
    const { subscriber } = await this.clients();
    await subscriber.acknowledge({ subscription: this.subscription, ackIds: [message.receipt] });
    await this.kv.delete(this.countKey(message.id)).catch(() => undefined);
  }

  async nack(message: QueueMessage<T>, options: { delayMs?: number } = {}): Promise<void> {
    this.assertOpen();
    await this.setDeadline(message.receipt, options.delayMs ?? 0);
  }

  async extendLease(message: QueueMessage<T>, ms: number): Promise<void> {
    this.assertOpen();
    await this.setDeadline(message.receipt, ms);
  }

  async deadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    await this.publishDeadLetter(message, reason);
    await this.ack(message);
  }

  /**
   * Writes the message to the dead-letter topic `<topic>-dead` with the reason, the time and its delivery
   * count (what listDeadLetters and redrive read), without acknowledging anything: for a delivery this
   * queue did not pull, such as a Pub/Sub push, which its HTTP answer settles.
   */
  async publishDeadLetter(message: QueueMessage<T>, reason: string): Promise<void> {
    this.assertOpen();
    await this.publishTo(`${this.name}-dead`, message.body, {
      ...message.attributes,
      ...(message.dedupeId === undefined ? {} : { [ATTRIBUTE.dedupeId]: message.dedupeId }),
      [DEAD.reason]: reason,
      [DEAD.at]: String(Date.now()),
      [DEAD.count]: String(message.deliveryCount),
    });
  }

  async listDeadLetters(options: { limit?: number } = {}): Promise<Array<DeadLetter<T>>> {
    this.assertOpen();
    const pulled = await this.pull(this.deadSubscription, options.limit ?? 100);
    // Listing must not consume: hand every letter straight back.
    await this.release(pulled.map((received) => received.ackId));
    return pulled.map(({ message }) => {
      const { [DEAD.reason]: reason, [DEAD.at]: at, [DEAD.count]: count, ...rest } = message.attributes;
      const { attributes, dedupeId } = split(rest);
      return {
        id: message.id,
        body: message.body as T,
        attributes,
        ...(dedupeId === undefined ? {} : { dedupeId }),
        deliveryCount: Number(count ?? "0"),
        reason: reason ?? "",
        deadLetteredAt: Number(at ?? "0"),
      };
    });
  }

  async redrive(deadLetterId: string): Promise<void> {
    this.assertOpen();
    for (let attempt = 0; attempt < 20; attempt++) {
      const pulled = await this.pull(this.deadSubscription, 100);
      const found = pulled.find(({ message }) => message.id === deadLetterId);
      await this.release(pulled.filter((other) => other !== found).map((other) => other.ackId));
      if (found) {
        const {
          [DEAD.reason]: _r,
          [DEAD.at]: _a,
          [DEAD.count]: _c,
          ...attributes
        } = found.message.attributes;
        await this.publishTo(this.name, found.message.body, attributes);
        await (await this.clients()).subscriber.acknowledge({
          subscription: this.deadSubscription,
          ackIds: [found.ackId],
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`PubSubQueue.redrive: no dead letter ${deadLetterId} in ${this.deadSubscription}`);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    if (this.rest) await this.rest.getTopic(this.name);
    else await (await this.clients()).pubsub.topic(this.name).getMetadata();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rest?.close();
    if (!this.library) return;
    const { pubsub, subscriber } = await this.library;
    await subscriber.close();
    await pubsub.close();
  }

  private async pullOnce(maxMessages: number): Promise<Array<QueueMessage<T>>> {
    const out: Array<QueueMessage<T>> = [];
    for (const { ackId, message } of await this.pull(this.subscription, maxMessages)) {
      const notBefore = Number(message.attributes[ATTRIBUTE.notBefore] ?? "0");
      const early = notBefore - Date.now();
      if (early > 0) {
        // Not due yet: hide it until it is (Pub/Sub has no delayed delivery of its own).
        await this.setDeadline(ackId, early);
        continue;
      }
      const deliveryCount = await this.kv.increment(this.countKey(message.id), 1, { ttlMs: 7 * 86_400_000 });
      const { attributes, dedupeId } = split(message.attributes);
      const delivery: QueueMessage<T> = {
        id: message.id,
        body: message.body as T,
        attributes,
        ...(dedupeId === undefined ? {} : { dedupeId }),
        deliveryCount,
        publishedAt: message.publishedAt,
        receipt: ackId,
      };
      if (deliveryCount > this.maxDeliveries) {
        await this.deadLetter(
          delivery,
          `delivered ${deliveryCount} times without an ack (maxDeliveries ${this.maxDeliveries})`,
        );
        continue;
      }
      await this.setDeadline(ackId, this.leaseSeconds * 1000);
      out.push(delivery);
    }
    return out;
  }

  private async pull(subscription: string, maxMessages: number) {
    const { subscriber } = await this.clients();
    const [response] = await subscriber.pull({ subscription, maxMessages, returnImmediately: true });
    return (response.receivedMessages ?? []).map((received) => {
      const raw = received.message ?? {};
      const data = raw.data ? Buffer.from(raw.data as Uint8Array).toString("utf8") : "null";
      const seconds = Number(raw.publishTime?.seconds ?? 0);
      const nanos = raw.publishTime?.nanos ?? 0;
      return {
        ackId: received.ackId ?? "",
        message: {
          id: raw.messageId ?? "",
          body: JSON.parse(data) as unknown,
          attributes: { ...(raw.attributes ?? {}) } as MessageAttributes,
          publishedAt: seconds * 1000 + Math.floor(nanos / 1e6),
        },
      };
    });
  }

  private async setDeadline(ackId: string, ms: number): Promise<void> {
    const seconds = Math.min(MAX_DEADLINE_SECONDS, Math.ceil(Math.max(0, ms) / 1000));
    await (await this.clients()).subscriber.modifyAckDeadline({
      subscription: this.subscription,
      ackIds: [ackId],
      ackDeadlineSeconds: seconds,
    });
  }

  private async release(ackIds: string[]): Promise<void> {
    if (ackIds.length === 0) return;
    await (await this.clients()).subscriber.modifyAckDeadline({
      subscription: this.deadSubscription,
      ackIds,
      ackDeadlineSeconds: 0,
    });
  }

  private async publishTo(topic: string, body: unknown, attributes: MessageAttributes, orderingKey?: string) {
    const data = Buffer.from(JSON.stringify(body) ?? "null", "utf8");
    if (this.rest) return await this.rest.publish(topic, data, attributes, orderingKey);
    const { pubsub } = await this.clients();
    return await pubsub
      .topic(topic, orderingKey ? { messageOrdering: true } : {})
      .publishMessage({ data, attributes, ...(orderingKey ? { orderingKey } : {}) });
  }

  private dedupeKey(dedupeId: string): string {
    return `pubsub/${this.name}/dedupe/${dedupeId}`;
  }

  private countKey(messageId: string): string {
    return `pubsub/${this.name}/deliveries/${messageId}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`PubSubQueue ${this.name} is closed`);
  }
}

function split(all: MessageAttributes): { attributes: MessageAttributes; dedupeId?: string } {
  const attributes = Object.fromEntries(
    Object.entries(all).filter(([name]) => !INTERNAL_ATTRIBUTES.has(name)),
  );
  const dedupeId = all[ATTRIBUTE.dedupeId];
  return dedupeId === undefined ? { attributes } : { attributes, dedupeId };
}

async function ensure(create: () => Promise<unknown>): Promise<void> {
  await create().catch((error: { code?: number }) => {
    if (error.code !== 6) throw error; // ALREADY_EXISTS is what we wanted
  });
}
