import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type GetMessage,
  type Options,
} from "amqplib";
import { redactUrl } from "./options.js";

/** A delivery taken with basic.get, tied to the consumer channel (generation) it arrived on. */
export interface Delivery {
  message: GetMessage;
  generation: number;
}

interface Connection {
  model: ChannelModel;
  /** Why the connection closed, once it has. */
  closedBecause: string | undefined;
}

/**
 * One AMQP connection with a confirm channel for publishing and a plain channel for basic.get/ack. A
 * channel or connection that closes (a channel error, the broker restarting) is opened again by the next
 * operation that needs it, so callers see one failed operation per outage and then carry on.
 * Deliveries belong to the consumer channel they came on: when it closes the broker requeues them, so
 * `onDeliveriesLost` tells the owner to forget that generation's leases.
 */
export class Broker {
  private connection: Promise<Connection> | undefined;
  /** The open connection the channels below belong to. */
  private current: Connection | undefined;
  private publisher: Promise<{ channel: ConfirmChannel; failure: { reason?: string } }> | undefined;
  private consumer: Promise<{ channel: Channel; generation: number }> | undefined;
  private consumerGeneration = 0;
  /** messageId → how many publishes of it the broker returned as unroutable and nobody has seen yet. */
  private readonly returned = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly connectTimeoutMs: number,
    /** Prefix of every error message, naming the queue. */
    private readonly where: string,
    private readonly onDeliveriesLost: (generation: number) => void,
  ) {}

  /** Opens the connection now, so a wrong URL or a missing broker fails at connect time. */
  async open(): Promise<void> {
    await this.ensureConnected();
  }

  /** Publishes and resolves once the broker confirmed it (publisher confirms); rejects on nack or return. */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    const { channel, failure } = await this.publishChannel();
    const messageId = options.messageId ?? "";
    await new Promise<void>((resolve, reject) => {
      const settle = (error: unknown) => {
        const returns = this.returned.get(messageId) ?? 0;
        if (returns > 0) {
          if (returns === 1) this.returned.delete(messageId);
          else this.returned.set(messageId, returns - 1);
          reject(
            new Error(
              `${this.where}: the broker could not route message ${messageId} (exchange ${JSON.stringify(exchange)}, ` +
                `routing key ${JSON.stringify(routingKey)}): its queue is missing; connect again to declare it`,
            ),
          );
          return;
        }
        if (error === null || error === undefined) {
          resolve();
          return;
        }
        const detail = failure.reason ?? (error instanceof Error ? error.message : String(error));
        reject(new Error(`${this.where}: the broker did not confirm message ${messageId}: ${detail}`));
      };
      try {
        channel.publish(exchange, routingKey, content, options, settle);
      } catch (error) {
        reject(this.wrap("publish", error));
      }
    });
  }

  /** basic.get: one message or undefined when the queue is empty. */
  async get(queue: string): Promise<Delivery | undefined> {
    const { channel, generation } = await this.consumeChannel();
    try {
      const message = await channel.get(queue, { noAck: false });
      return message === false ? undefined : { message, generation };
    } catch (error) {
      throw this.wrap(`basic.get from ${queue}`, error);
    }
  }

  /**
   * Acknowledges a delivery. Returns false (doing nothing) when its channel has closed since: the broker
   * has already requeued it.
   */
  async ack(delivery: Delivery): Promise<boolean> {
    const consumer = await this.consumer?.catch(() => undefined);
    if (consumer === undefined || consumer.generation !== delivery.generation) return false;
    try {
      consumer.channel.ack(delivery.message);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Hands a delivery back to the broker (basic.nack with requeue) when the adapter could not settle it
   * another way; it comes back flagged as redelivered, which the adapter counts as a delivery.
   */
  async release(delivery: Delivery): Promise<void> {
    const consumer = await this.consumer?.catch(() => undefined);
    if (consumer === undefined || consumer.generation !== delivery.generation) return;
    try {
      consumer.channel.nack(delivery.message, false, true);
    } catch {
      // The channel is closing; the broker requeues the delivery anyway.
    }
  }

  /** Runs `work` on a channel of its own, closed afterwards; a channel error there harms nothing else. */
  async withChannel<T>(what: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    const { model } = await this.ensureConnected();
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw this.wrap(what, error);
    }
    let failure: string | undefined;
    channel.on("error", (error: Error) => {
      failure = error.message;
    });
    try {
      return await work(channel);
    } catch (error) {
      throw this.wrap(what, failure !== undefined ? new Error(failure) : error);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connection = await this.connection?.catch(() => undefined);
    this.connection = undefined;
    this.current = undefined;
    this.publisher = undefined;
    this.consumer = undefined;
    if (connection !== undefined && connection.closedBecause === undefined) {
      await connection.model.close().catch(() => undefined);
    }
  }

  private ensureConnected(): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error(`${this.where}: the queue is closed`));
    this.connection ??= this.dial().then(
      (connection) => {
        this.current = connection;
        return connection;
      },
      (error: unknown) => {
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  private async dial(): Promise<Connection> {
    let model: ChannelModel;
    try {
      model = await connect(this.url, { timeout: this.connectTimeoutMs, noDelay: true });
    } catch (error) {
      throw new Error(
        `${this.where}: cannot connect to RabbitMQ at ${redactUrl(this.url)} (${this.scrub(describe(error))}); ` +
          "check that the broker runs and the URL, user and password are right " +
          "(scripts/services.sh rabbitmq starts a local one)",
      );
    }
    const connection: Connection = { model, closedBecause: undefined };
    model.on("error", (error: Error) => {
      connection.closedBecause = this.scrub(error.message);
    });
    model.on("close", () => {
      connection.closedBecause ??= "closed";
      if (this.current === connection) {
        this.current = undefined;
        this.connection = undefined;
        this.publisher = undefined;
        this.dropConsumer();
      }
    });
    return connection;
  }

  private publishChannel(): Promise<{ channel: ConfirmChannel; failure: { reason?: string } }> {
    this.publisher ??= (async () => {
      const { model } = await this.ensureConnected();
      const channel = await model.createConfirmChannel();
      const failure: { reason?: string } = {};
      channel.on("error", (error: Error) => {
        failure.reason = error.message;
      });
      channel.on("return", (message: GetMessage) => {
        const id = message.properties.messageId ?? "";
        this.returned.set(id, (this.returned.get(id) ?? 0) + 1);
      });
      channel.on("close", () => {
        if (this.publisher === opened) this.publisher = undefined;
      });
      return { channel, failure };
    })().catch((error: unknown) => {
      this.publisher = undefined;
      throw this.wrap("open a publishing channel", error);
    });
    const opened = this.publisher;
    return opened;
  }

  private consumeChannel(): Promise<{ channel: Channel; generation: number }> {
    this.consumer ??= (async () => {
      const { model } = await this.ensureConnected();
      const channel = await model.createChannel();
      const generation = ++this.consumerGeneration;
      channel.on("error", () => {
        // The close event follows; the broker requeues this channel's unacked deliveries.
      });
      channel.on("close", () => {
        if (this.consumerGeneration === generation) this.dropConsumer();
      });
      return { channel, generation };
    })().catch((error: unknown) => {
      this.consumer = undefined;
      throw this.wrap("open a consuming channel", error);
    });
    return this.consumer;
  }

  private dropConsumer(): void {
    const generation = this.consumerGeneration;
    this.consumer = undefined;
    // A new channel gets a new generation, so stale deliveries can never be acked on it.
    this.consumerGeneration++;
    this.onDeliveriesLost(generation);
  }

  private wrap(what: string, error: unknown): Error {
    if (error instanceof Error && error.message.startsWith(this.where)) return error;
    return new Error(
      `${this.where}: ${what} failed on ${redactUrl(this.url)}: ${this.scrub(describe(error))}`,
    );
  }

  /** Removes the password from text that may echo the URL. */
  private scrub(text: string): string {
    try {
      const password = decodeURIComponent(new URL(this.url).password);
      return password === "" ? text : text.split(password).join("***");
    } catch {
      return text;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map((inner: unknown) => describe(inner)).join("; ");
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
