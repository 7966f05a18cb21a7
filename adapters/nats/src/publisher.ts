import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

/** What JetStream answers a stored publish with (its PubAck). */
export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

const utf8 = new TextDecoder();

interface Pending {
  subject: string;
  resolve: (ack: PublishAck) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * JetStream publishes, each answered on one inbox subscription (`<inbox>.<token>`) that lives as long as
 * the publisher: a publish is a core NATS message with a reply subject, and JetStream's PubAck (or its
 * error) comes back there.
 *
 * Why not the client library's `jetstream().publish`: it goes through `request`, whose RequestOne builds
 * a `RequestError("cancelled")`, stack trace included, on every reply it settles (nats-core 3.3), plus a
 * copy of the options and a backoff object per call. That was about 5 % of a webhook delivery's CPU on
 * the ingest bench (docs/benchmarks.md). This is the same protocol (the library does no more on the
 * wire: headers, `Nats-Msg-Id`, a reply inbox), checked by the queue's contract suite on a real server.
 */
export class JetStreamPublisher {
  private readonly prefix = createInbox();
  private readonly subscription: Subscription;
  private readonly pending = new Map<string, Pending>();
  private sequence = 0;

  constructor(
    private readonly connection: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.subscription = connection.subscribe(`${this.prefix}.*`, {
      callback: (error, message) => this.settle(error, message),
    });
    this.subscription.closed
      .then(() => this.failAll(new Error("the connection closed before JetStream answered")))
      .catch((error: unknown) => this.failAll(error as Error));
  }

  publish(subject: string, data: Uint8Array, headers: MsgHdrs): Promise<PublishAck> {
    const token = (++this.sequence).toString(36);
    return new Promise<PublishAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) {
          reject(
            new Error(
              `JetStream did not acknowledge the publish to ${subject} within ${this.timeoutMs} ms (is the stream's server up and reachable?)`,
            ),
          );
        }
      }, this.timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.connection.publish(subject, data, { reply: `${this.prefix}.${token}`, headers });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(error as Error);
      }
    });
  }

  /** Stops answering: publishes still waiting fail. */
  async close(): Promise<void> {
    if (!this.subscription.isClosed() && !this.connection.isClosed()) {
      this.subscription.unsubscribe();
    }
    this.failAll(new Error("the queue closed before JetStream answered"));
  }

  private settle(error: Error | null, message: Msg): void {
    if (error) {
      this.failAll(error);
      return;
    }
    const token = message.subject.slice(this.prefix.length + 1);
    const pending = this.pending.get(token);
    if (!pending) return; // timed out already
    this.pending.delete(token);
    clearTimeout(pending.timer);
    if (message.data.length === 0) {
      const code = message.headers?.code;
      pending.reject(
        new Error(
          code === 503
            ? `no JetStream stream listens on ${pending.subject} (503 no responders): is the stream provisioned and JetStream enabled?`
            : `JetStream answered the publish to ${pending.subject} with status ${code ?? "none"} ${message.headers?.description ?? ""}`.trim(),
        ),
      );
      return;
    }
    let answer: { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: { description?: unknown } };
    try {
      answer = JSON.parse(utf8.decode(message.data));
    } catch {
      pending.reject(new Error(`JetStream's answer to a publish to ${pending.subject} is not JSON`));
      return;
    }
    if (answer.error !== undefined || typeof answer.seq !== "number") {
      pending.reject(
        new Error(
          `JetStream refused the publish to ${pending.subject}: ${String(answer.error?.description ?? JSON.stringify(answer))}`,
        ),
      );
      return;
    }
    pending.resolve({ stream: String(answer.stream), seq: answer.seq, duplicate: answer.duplicate === true });
  }

  private failAll(error: Error): void {
    for (const [token, pending] of this.pending) {
      this.pending.delete(token);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
