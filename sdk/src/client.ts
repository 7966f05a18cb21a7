import createClient, { type Client, type Middleware } from "openapi-fetch";
import { AatNetworkError, problemFromResponse } from "./errors.js";
import type { components, paths } from "./generated/openapi.js";
import { type ReconnectInfo, type SseMessage, streamSse } from "./sse.js";

export type LoggedEvent = components["schemas"]["LoggedEvent"];
export type RunStatus = components["schemas"]["RunStatus"];

export interface AatClientOptions {
  /** Where the API is, e.g. http://127.0.0.1:8080 (paths such as /v1/runs are appended). */
  baseUrl: string;
  /** An API key, sent as `X-API-Key`. */
  apiKey?: string;
  /** A bearer token (an API key or an OIDC access token), or a function giving the current one. */
  bearerToken?: string | (() => string | undefined | Promise<string | undefined>);
  /** Extra headers on every request (e.g. a User-Agent). */
  headers?: Record<string, string>;
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
}

/** An item of a run's event stream: one logged event, or the `end` that closes the stream. */
export type RunStreamItem =
  | { kind: "event"; seq: number; event: LoggedEvent["event"] }
  | { kind: "end"; runId: string; status: RunStatus; version: number };

export interface StreamOptions {
  signal?: AbortSignal;
  onReconnect?: (info: ReconnectInfo) => void;
  maxAttempts?: number;
  initialDelayMs?: number;
}

export interface AatClient {
  /** Typed calls for every route of the API's OpenAPI document: `api.GET("/v1/runs/{id}", …)`. */
  readonly api: Client<paths>;
  readonly baseUrl: string;
  /** The authentication headers requests carry (for callers building their own requests). */
  authHeaders(): Promise<Record<string, string>>;
  /**
   * A run's events, live, over server-sent events: reconnects with Last-Event-ID when the connection
   * drops, and finishes after the `end` item. `after` resumes after that seq.
   */
  runEvents(runId: string, options?: StreamOptions & { after?: number }): AsyncGenerator<RunStreamItem>;
  /**
   * Any server-sent event stream of the API (chat replies, …), authenticated like other calls.
   * `isLast` names the message after which the stream is complete; GET streams reconnect.
   */
  stream(
    path: string,
    options?: StreamOptions & {
      method?: string;
      body?: unknown;
      lastEventId?: string;
      reconnect?: boolean;
      isLast?: (message: SseMessage) => boolean;
    },
  ): AsyncGenerator<SseMessage>;
}

/**
 * A client of the aat API. Error statuses throw AatApiError (problem+json: status, title, detail,
 * errors with paths); unreachable servers throw AatNetworkError naming the URL.
 */
export function createAatClient(options: AatClientOptions): AatClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: Request) => globalThis.fetch(input));

  const authHeaders = async (): Promise<Record<string, string>> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.apiKey) headers["x-api-key"] = options.apiKey;
    const token =
      typeof options.bearerToken === "function" ? await options.bearerToken() : options.bearerToken;
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  };

  const middleware: Middleware = {
    async onRequest({ request }) {
      for (const [name, value] of Object.entries(await authHeaders())) {
        if (!request.headers.has(name)) request.headers.set(name, value);
      }
      return request;
    },
    async onResponse({ request, response }) {
      if (!response.ok) throw await problemFromResponse(response, request.method);
      return response;
    },
    onError({ error, request }) {
      return error instanceof Error && error.name.startsWith("Aat")
        ? error
        : new AatNetworkError({ method: request.method, url: request.url }, error);
    },
  };

  const api = createClient<paths>({ baseUrl, fetch: doFetch });
  api.use(middleware);

  const stream: AatClient["stream"] = (path, streamOptions = {}) =>
    streamSse({
      url: `${baseUrl}${path}`,
      headers: authHeaders,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(streamOptions.method ? { method: streamOptions.method } : {}),
      ...(streamOptions.body !== undefined ? { body: JSON.stringify(streamOptions.body) } : {}),
      ...(streamOptions.lastEventId !== undefined ? { lastEventId: streamOptions.lastEventId } : {}),
      ...(streamOptions.reconnect !== undefined ? { reconnect: streamOptions.reconnect } : {}),
      ...(streamOptions.isLast ? { isLast: streamOptions.isLast } : {}),
      ...(streamOptions.signal ? { signal: streamOptions.signal } : {}),
      ...(streamOptions.onReconnect ? { onReconnect: streamOptions.onReconnect } : {}),
      ...(streamOptions.maxAttempts !== undefined ? { maxAttempts: streamOptions.maxAttempts } : {}),
      ...(streamOptions.initialDelayMs !== undefined ? { initialDelayMs: streamOptions.initialDelayMs } : {}),
    });

  async function* runEvents(
    runId: string,
    { after, ...streamOptions }: StreamOptions & { after?: number } = {},
  ): AsyncGenerator<RunStreamItem> {
    const messages = stream(`/v1/runs/${encodeURIComponent(runId)}/events`, {
      ...streamOptions,
      ...(after !== undefined ? { lastEventId: String(after) } : {}),
      isLast: (message) => message.event === "end",
    });
    for await (const message of messages) {
      const data = JSON.parse(message.data) as Record<string, unknown>;
      if (message.event === "end") {
        yield {
          kind: "end",
          runId: String(data.runId),
          status: data.status as RunStatus,
          version: Number(data.version),
        };
      } else {
        yield { kind: "event", seq: Number(message.id), event: data as LoggedEvent["event"] };
      }
    }
  }

  return { api, baseUrl, authHeaders, runEvents, stream };
}
