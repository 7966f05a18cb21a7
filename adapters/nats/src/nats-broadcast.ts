import type { Broadcast } from "@aat/core/ports";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { openConnection } from "./connection.js";
import { type NatsConnectionOptions, natsConnectionOptionsSchema, parseOptions } from "./options.js";

export interface NatsBroadcastOptions extends NatsConnectionOptions {
  /** Subject prefix of every channel (default "aat.broadcast"); give each deployment sharing a server its own. */
  subjectPrefix?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The Broadcast port on NATS core subjects (no JetStream: nothing is stored). A channel is the subject
 * `<prefix>.<channel in base64url>`, so any channel name is one valid subject token.
 */
export class NatsBroadcast implements Broadcast {
  private closed = false;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly prefix: string,
  ) {}

  static async connect(options: NatsBroadcastOptions): Promise<NatsBroadcast> {
    const { subjectPrefix, ...connectionOptions } = options;
    const settings = parseOptions(natsConnectionOptionsSchema, connectionOptions, "NatsBroadcast.connect");
    const { connection } = await openConnection(settings, "aat-broadcast", "NatsBroadcast");
    return new NatsBroadcast(connection, subjectPrefix ?? "aat.broadcast");
  }

  publish(channel: string, message: string): void {
    if (this.closed || this.connection.isClosed()) return;
    try {
      this.connection.publish(this.subject(channel), encoder.encode(message));
    } catch {
      // Best effort by contract: a reconnecting connection may refuse; the durable record still holds.
    }
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    const subscription: Subscription = this.connection.subscribe(this.subject(channel), {
      callback: (error, message) => {
        if (error) return;
        try {
          listener(decoder.decode(message.data));
        } catch {
          // A listener's bug must not stop the subscription.
        }
      },
    });
    // The server has the subscription once it answers a PING sent after the SUB.
    await this.connection.flush();
    return () => {
      if (!subscription.isClosed()) subscription.unsubscribe();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.connection.isClosed()) await this.connection.close();
  }

  private subject(channel: string): string {
    return `${this.prefix}.${Buffer.from(channel, "utf8").toString("base64url")}`;
  }
}
