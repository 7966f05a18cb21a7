import { createParser, type EventSourceMessage } from "eventsource-parser";
import { AatNetworkError, problemFromResponse } from "./errors.js";

/** One server-sent event. `event` is "message" when the server named none. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface ReconnectInfo {
  /** 1 for the first reconnect after a success, growing while connecting keeps failing. */
  attempt: number;
  /** The id the next connection resumes after (sent as Last-Event-ID). */
  lastEventId: string | undefined;
  /** Why the previous connection ended: an error, or undefined when the server just closed it. */
  error: unknown;
  delayMs: number;
}

export interface SseStreamOptions {
  url: string;
  method?: string;
  body?: string;
  /** Called before every connection, so a refreshed token is used on reconnect. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** Resume after this event id (sent as Last-Event-ID on the first connection too). */
  lastEventId?: string;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
  /**
   * Reconnect when the connection drops or the server closes it before `isLast` said the stream is
   * over. Default: on for GET, off otherwise (re-sending a POST could repeat what it asked for).
   */
  reconnect?: boolean;
  /** Give up after this many connection failures in a row (default 10). */
  maxAttempts?: number;
  /** First reconnect delay; doubles per failure up to maxDelayMs. A server's `retry:` field wins. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** The stream is complete after this message (e.g. a run stream's `end`); no reconnect follows. */
  isLast?: (message: SseMessage) => boolean;
  onReconnect?: (info: ReconnectInfo) => void;
}

/**
 * Reads a server-sent event stream over fetch (browsers and Node 20 alike; EventSource cannot send
 * an Authorization header). Parsing is eventsource-parser's; this adds Last-Event-ID resumption and
 * reconnects with backoff. Ends quietly when `signal` aborts.
 */
export async function* streamSse(options: SseStreamOptions): AsyncGenerator<SseMessage, void, undefined> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const method = options.method ?? "GET";
  const reconnect = options.reconnect ?? method === "GET";
  const maxAttempts = options.maxAttempts ?? 10;
  const initialDelayMs = options.initialDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  let lastEventId = options.lastEventId;
  let serverRetryMs: number | undefined;
  let failures = 0;

  while (!options.signal?.aborted) {
    let failure: unknown;
    try {
      const headers: Record<string, string> = {
        accept: "text/event-stream",
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        ...(await options.headers?.()),
        ...(lastEventId !== undefined ? { "last-event-id": lastEventId } : {}),
      };
      let response: Response;
      try {
        response = await doFetch(options.url, {
          method,
          headers,
          ...(options.body !== undefined ? { body: options.body } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) return;
        throw new AatNetworkError({ method, url: options.url }, error);
      }
      if (!response.ok) {
        const problem = await problemFromResponse(response, method);
        // A client error will not go away by asking again; a server error or overload may.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) throw problem;
        throw Object.assign(problem, { retryable: true });
      }
      failures = 0;
      for await (const message of readMessages(response, options.signal, (ms) => {
        serverRetryMs = ms;
      })) {
        if (message.id !== undefined) lastEventId = message.id;
        yield message;
        if (options.isLast?.(message)) return;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      const retryable =
        error instanceof AatNetworkError ||
        (error as { retryable?: boolean }).retryable === true ||
        !isHttp(error);
      if (!reconnect || !retryable) throw error;
      failure = error;
      failures++;
      if (failures >= maxAttempts) throw error;
    }
    if (!reconnect) return;
    const delayMs = serverRetryMs ?? Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, failures - 1));
    options.onReconnect?.({ attempt: Math.max(1, failures), lastEventId, error: failure, delayMs });
    await sleep(delayMs, options.signal);
  }
}

function isHttp(error: unknown): boolean {
  return typeof (error as { status?: unknown }).status === "number";
}

async function* readMessages(
  response: Response,
  signal: AbortSignal | undefined,
  onRetry: (ms: number) => void,
): AsyncGenerator<SseMessage, void, undefined> {
  if (!response.body) return;
  const queue: SseMessage[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) =>
      queue.push({ id: message.id, event: message.event ?? "message", data: message.data }),
    onRetry,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift() as SseMessage;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => undefined);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
