import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";

export interface PullTarget {
  connection: NatsConnection;
  /** `$JS.API` unless the account uses a domain or another prefix. */
  apiPrefix: string;
  stream: string;
  consumer: string;
}

export interface PullOptions {
  /** At most this many messages. */
  batch: number;
  /** 0: answer at once with what is there; otherwise wait up to this long for a first message. */
  waitMs: number;
  /** Extra time allowed for the server's answer before giving up on it client-side. */
  graceMs: number;
  /** Ends the request early with what has arrived (the queue is closing). */
  signal?: AbortSignal;
}

export interface PullerOptions {
  /**
   * How long a delivery that arrived after its request ended is kept for the next pull before it is
   * nak'ed (handed back to the consumer at once). Keep it well below the consumer's ack wait.
   */
  lateHoldMs: number;
  onError: (error: Error) => void;
}

interface Waiting {
  messages: Msg[];
  batch: number;
  finish: (error?: Error) => void;
}

/**
 * Pull requests on one consumer's `MSG.NEXT` API, all answered on one inbox subscription
 * (`<inbox>.<request>`) that lives as long as the puller.
 *
 * Each request is sent with `no_wait`: the server delivers what is available now and ends the request
 * (404/408) instead of holding it open until the batch is full; with `expires` added it first waits up to
 * that long for a first message. That is the port's `receive` contract, which the client library's
 * `fetch` (at least 1 s, waits to fill the batch) cannot express.
 *
 * Why one long-lived subscription: a request can end on the client (its deadline passed, the queue is
 * closing) while the server is still sending to it. The server counts such a delivery, so with a
 * per-request inbox that was already unsubscribed the message was dropped in transit and came back only
 * after the ack wait, one delivery count higher. Here a delivery for a request that has ended is kept
 * and handed to the next pull (same delivery count, no wait), or nak'ed if no pull takes it in time or
 * the puller is closing, so nothing waits for the ack wait.
 */
export class Puller {
  private readonly prefix = createInbox();
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly late: Array<{ message: Msg; heldUntil: number }> = [];
  private lateTimer?: ReturnType<typeof setTimeout>;
  private sequence = 0;
  private closing = false;

  constructor(
    private readonly target: PullTarget,
    private readonly options: PullerOptions,
  ) {
    this.subscription = target.connection.subscribe(`${this.prefix}.*`, {
      callback: (error, message) => this.route(error, message),
    });
    this.subscription.closed.then(() => this.endAll()).catch((error: unknown) => this.endAll(error as Error));
  }

  /** One pull request; resolves with what was delivered (possibly nothing). */
  pull(options: PullOptions): Promise<Msg[]> {
    const { connection, apiPrefix, stream, consumer } = this.target;
    if (this.closing || options.signal?.aborted) return Promise.resolve([]);
    if (this.late.length > 0) return Promise.resolve(this.takeLate(options.batch));
    const request: Record<string, number | boolean> = { batch: options.batch, no_wait: true };
    if (options.waitMs > 0) request.expires = options.waitMs * 1_000_000;
    const token = String(++this.sequence);

    return new Promise<Msg[]>((resolve, reject) => {
      const messages: Msg[] = [];
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.waiting.delete(token);
        if (error && messages.length === 0) reject(error);
        else resolve(messages);
      };
      this.waiting.set(token, { messages, batch: options.batch, finish });
      const timer = setTimeout(() => finish(), options.waitMs + options.graceMs);
      const onAbort = () => finish();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        connection.publish(`${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(request), {
          reply: `${this.prefix}.${token}`,
        });
      } catch (error) {
        finish(error as Error);
      }
    });
  }

  /**
   * Ends waiting pulls with what they have, waits until the server has sent everything addressed to this
   * puller, and nak's whatever arrived too late for a pull, so other instances get it at once.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.endAll();
    if (!this.subscription.isClosed() && !this.target.connection.isClosed()) {
      await this.subscription.drain().catch((error: unknown) => this.options.onError(error as Error));
    }
    clearTimeout(this.lateTimer);
    for (const { message } of this.late.splice(0)) this.nak(message);
  }

  private route(error: Error | null, message: Msg): void {
    if (error) {
      this.options.onError(error);
      this.endAll(error);
      return;
    }
    const status = message.data.length === 0 ? message.headers?.code : undefined;
    if (status) {
      // Status messages come to the request's own reply subject.
      const waiting = this.waiting.get(message.subject.slice(this.prefix.length + 1));
      if (!waiting || status === 100) return; // idle heartbeat, or the end of a request that has ended
      if (status === 404 || status === 408) {
        waiting.finish();
        return;
      }
      const { stream, consumer } = this.target;
      waiting.finish(
        new Error(
          `pull from consumer ${consumer} on stream ${stream} was refused: ${status} ${message.headers?.description ?? ""}`.trim(),
        ),
      );
      return;
    }
    // Deliveries keep their stream subject, so they cannot be told apart by request: the oldest waiting
    // pull takes them. Any pull of this consumer may hand out any of its messages, and the server sends a
    // request's messages before its end status, so nothing is handed out beyond a pull's batch.
    const taker = this.oldestWaiting();
    if (!taker) {
      this.keepLate(message);
      return;
    }
    taker.messages.push(message);
    if (taker.messages.length >= taker.batch) taker.finish();
  }

  private oldestWaiting(): Waiting | undefined {
    for (const waiting of this.waiting.values()) if (waiting.messages.length < waiting.batch) return waiting;
    return undefined;
  }

  private keepLate(message: Msg): void {
    if (this.closing) {
      this.nak(message);
      return;
    }
    this.late.push({ message, heldUntil: Date.now() + this.options.lateHoldMs });
    this.lateTimer ??= setTimeout(() => this.nakOverdue(), this.options.lateHoldMs);
  }

  private takeLate(batch: number): Msg[] {
    const taken = this.late.splice(0, batch).map(({ message }) => message);
    if (this.late.length === 0) {
      clearTimeout(this.lateTimer);
      this.lateTimer = undefined;
    }
    return taken;
  }

  private nakOverdue(): void {
    this.lateTimer = undefined;
    const now = Date.now();
    while (this.late.length > 0 && this.late[0]!.heldUntil <= now) this.nak(this.late.shift()!.message);
    if (this.late.length > 0) {
      this.lateTimer = setTimeout(() => this.nakOverdue(), Math.max(1, this.late[0]!.heldUntil - now));
    }
  }

  private nak(message: Msg): void {
    if (!message.reply || this.target.connection.isClosed()) return;
    try {
      this.target.connection.publish(message.reply, "-NAK");
    } catch (error) {
      // Not handed back: it returns after the ack wait like any unacknowledged delivery.
      this.options.onError(error as Error);
    }
  }

  private endAll(error?: Error): void {
    for (const waiting of [...this.waiting.values()]) waiting.finish(error);
  }
}
