import { ToolError } from "../../errors.js";
import { EgressGuard, type HostResolver } from "../http/egress-guard.js";
import { exchange } from "../http/transport.js";

/** What the integrations (threat intel, notifications, tickets, response actions) need to reach a service. */
export interface EgressOptions {
  /** `http.allowHosts`: hosts that may be reached at private or loopback addresses (tests: 127.0.0.1). */
  allowHosts: readonly string[];
  resolve?: HostResolver;
  /** Largest response body read (default 1 MiB). */
  maxResponseBytes?: number;
}

export interface EgressRequest {
  url: string | URL;
  method?: string;
  headers?: Record<string, string>;
  /** A JSON body (sets content-type application/json) … */
  json?: unknown;
  /** … or a raw one. */
  body?: string;
  signal: AbortSignal;
  /** Per-request limit; combined with `signal`. */
  timeoutMs?: number;
}

export interface EgressResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * One HTTP request through the same SSRF guard as `http.request` (the host is resolved once, private
 * addresses are refused unless allow-listed, the socket goes to the checked address). Integrations use
 * it instead of `fetch` so an operator's `http.allowHosts` governs every outbound call the same way.
 * Redirects are not followed: the APIs called here answer directly.
 */
export class EgressClient {
  private readonly guard: EgressGuard;
  private readonly maxResponseBytes: number;

  constructor(options: EgressOptions) {
    this.guard = new EgressGuard({
      allowHosts: options.allowHosts,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  async send(request: EgressRequest): Promise<EgressResponse> {
    const url = new URL(request.url);
    const signal =
      request.timeoutMs !== undefined
        ? AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)])
        : request.signal;
    const headers: Record<string, string> = { accept: "application/json", ...lower(request.headers ?? {}) };
    let body: Buffer | undefined;
    if (request.json !== undefined) {
      body = Buffer.from(JSON.stringify(request.json));
      headers["content-type"] ??= "application/json";
    } else if (request.body !== undefined) {
      body = Buffer.from(request.body);
    }
    if (body) headers["content-length"] = String(body.length);
    const address = await this.guard.check(url);
    let response: Awaited<ReturnType<typeof exchange>>;
    try {
      response = await exchange({
        url,
        address,
        method: request.method ?? (body ? "POST" : "GET"),
        headers,
        ...(body ? { body } : {}),
        maxResponseBytes: this.maxResponseBytes,
        signal,
      });
    } catch (error) {
      if (error instanceof ToolError) throw error;
      const reason = signal.aborted
        ? "timed out or was cancelled"
        : `failed: ${error instanceof Error ? error.message : String(error)}`;
      throw new ToolError(`request to ${url.protocol}//${url.host} ${reason}`, {
        code: signal.aborted ? "timeout" : "network_error",
        retryable: true,
      });
    }
    const text = response.body.toString("utf8");
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    return { status: response.status, headers: flat, text, json: parseJson(text) };
  }
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
