import { createInbox, type Msg, type NatsConnection } from "@nats-io/transport-node";

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

/**
 * One pull request on the consumer's `MSG.NEXT` API. Always sent with `no_wait`: the server delivers what
 * is available now and ends the request (404/408) instead of holding it open until the batch is full; with
 * `expires` added it first waits up to that long for a first message. That is the port's `receive`
 * contract, which the client library's `fetch` (at least 1 s, waits to fill the batch) cannot express.
 *
 * The inbox subscription is removed when the request ends; the server drops a pull request whose reply
 * subject has no interest, so an abandoned request never swallows a message.
 */
export function pull(target: PullTarget, options: PullOptions): Promise<Msg[]> {
  const { connection, apiPrefix, stream, consumer } = target;
  const request: Record<string, number | boolean> = { batch: options.batch, no_wait: true };
  if (options.waitMs > 0) request.expires = options.waitMs * 1_000_000;

  return new Promise<Msg[]>((resolve, reject) => {
    const messages: Msg[] = [];
    let settled = false;
    const inbox = createInbox();
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (!subscription.isClosed()) subscription.unsubscribe();
      if (error && messages.length === 0) reject(error);
      else resolve(messages);
    };
    const subscription = connection.subscribe(inbox, {
      callback: (error, message) => {
        if (error) return finish(error);
        const status = message.data.length === 0 ? message.headers?.code : undefined;
        if (status) {
          if (status === 100) return; // idle heartbeat
          if (status === 404 || status === 408) return finish();
          return finish(
            new Error(
              `pull from consumer ${consumer} on stream ${stream} was refused: ${status} ${message.headers?.description ?? ""}`.trim(),
            ),
          );
        }
        messages.push(message);
        if (messages.length >= options.batch) finish();
      },
    });
    subscription.closed.then(() => finish()).catch((error: unknown) => finish(error as Error));
    const timer = setTimeout(() => finish(), options.waitMs + options.graceMs);
    const onAbort = () => finish();
    if (options.signal?.aborted) return finish();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      connection.publish(`${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(request), {
        reply: inbox,
      });
    } catch (error) {
      finish(error as Error);
    }
  });
}
