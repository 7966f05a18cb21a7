import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { ToolError } from "../errors.js";
import { onFirstUse } from "../first-use.js";
import type { Tool, ToolContext } from "../types.js";
import { EgressGuard, type HostResolver } from "./http/egress-guard.js";
import { SecretRedactor } from "./http/redact.js";
import { type ParsedBody, parseBody } from "./http/response-body.js";
import { exchange, type ReceivedResponse } from "./http/transport.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/** The `http` section of the configuration, plus a resolver tests and special deployments may swap. */
export interface HttpRequestOptions {
  /** Hosts that may be reached even at private addresses: exact names/IPs or `*.example.com`. */
  allowHosts: readonly string[];
  /** Upper bound (and default) for one response body, after decompression. */
  maxResponseBytes: number;
  /** Upper bound (and default) for one call, redirects included. */
  timeoutMs: number;
  resolve?: HostResolver;
  /** Redirects followed before the call fails (default 5). */
  maxRedirects?: number;
  /** Extra trusted CA certificates (PEM) for https, e.g. an internal CA of allow-listed hosts. */
  ca?: string | readonly string[];
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers the tool sets itself: the connection and framing are not the caller's to choose. */
const MANAGED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
]);
/** Dropped when a redirect leaves the origin, as browsers do, along with every secret-bearing header. */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SECRET_PREFIX = "secret:";

function inputSchema(options: HttpRequestOptions) {
  return z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: "must be an absolute http:// or https:// URL" }).check(
        z.refine((url) => {
          // A value that is no URL at all has its issue from z.url already (and new URL would throw).
          if (!URL.canParse(url)) return true;
          const parsed = new URL(url);
          return parsed.username === "" && parsed.password === "";
        }, "must not carry a user name or password; pass credentials by secret name in `auth`"),
      ),
      method: z._default(z.enum(METHODS), "GET"),
      headers: z._default(
        z.record(
          z.string().check(
            z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name"),
            z.refine((name) => !MANAGED_HEADERS.has(name.toLowerCase()), "is set by the tool; leave it out"),
          ),
          z.string().check(
            z.refine((value) => !/[\r\n\0]/.test(value), "must not contain line breaks"),
            z.refine(
              (value) =>
                !value.startsWith(SECRET_PREFIX) || SECRET_NAME.test(value.slice(SECRET_PREFIX.length)),
              "secret:NAME needs a secret name of letters, digits, _ . or -",
            ),
          ),
        ),
        {},
      ),
      query: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
      json: z.optional(z.json()),
      body: z.optional(z.string()),
      auth: z.optional(
        z.strictObject({
          secret: z
            .string()
            .check(z.regex(SECRET_NAME, "must be a secret name of letters, digits, _ . or -")),
          scheme: z._default(
            z
              .string()
              .check(
                z.regex(/^[A-Za-z][A-Za-z0-9._~+-]*$/, "must be an auth scheme such as Bearer or Basic"),
              ),
            "Bearer",
          ),
        }),
      ),
      responseType: z._default(z.enum(["auto", "json", "text"]), "auto"),
      timeoutMs: z.optional(
        z
          .int()
          .check(
            z.positive(),
            z.maximum(options.timeoutMs, `may be at most ${options.timeoutMs} (http.timeoutMs)`),
          ),
      ),
      maxResponseBytes: z.optional(
        z
          .int()
          .check(
            z.positive(),
            z.maximum(
              options.maxResponseBytes,
              `may be at most ${options.maxResponseBytes} (http.maxResponseBytes)`,
            ),
          ),
      ),
      followRedirects: z._default(z.boolean(), true),
    })
    .check(
      z.superRefine((input, ctx) => {
        if (input.json !== undefined && input.body !== undefined) {
          ctx.addIssue({ code: "custom", path: ["body"], message: "give either json or body, not both" });
        }
        if (
          (input.json !== undefined || input.body !== undefined) &&
          (input.method === "GET" || input.method === "HEAD")
        ) {
          ctx.addIssue({
            code: "custom",
            path: ["method"],
            message: `${input.method} requests carry no body; use POST, PUT or PATCH`,
          });
        }
      }),
    );
}

type HttpRequestInput = z.output<ReturnType<typeof inputSchema>>;

const outputSchema = onFirstUse(() =>
  z.strictObject({
    status: z.int(),
    ok: z.boolean(),
    /** The URL that answered, after redirects. */
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    bodyType: z.enum(["json", "text", "base64", "empty"]),
    body: z.nullable(z.json()),
    /** Each URL redirected to, in order. */
    redirects: z.array(z.string()),
  }),
);

export type HttpRequestOutput = z.output<ReturnType<typeof outputSchema>>;

/**
 * `http.request`: one HTTP call to a public host (or an allow-listed one), with secrets by name in
 * headers, a size and a time cap, and redirects re-checked hop by hop.
 */
export function httpRequestTool(options: HttpRequestOptions): Tool<HttpRequestInput, HttpRequestOutput> {
  const guard = new EgressGuard({
    allowHosts: options.allowHosts,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const maxRedirects = options.maxRedirects ?? 5;
  const input = onFirstUse(() => inputSchema(options));
  // Node replaces its default roots when `ca` is given, so extra CAs are added to them.
  // node:tls is loaded only when extra CAs are configured (see http/transport.ts).
  const trusted =
    options.ca === undefined
      ? undefined
      : [...process.getBuiltinModule("node:tls").rootCertificates, ...[options.ca].flat()];
  return {
    name: "http.request",
    description:
      "Make an HTTP request (GET, POST, …) to a public URL and return status, headers and body (JSON parsed when the response is JSON). Private and internal addresses are refused. Credentials go by secret name: `auth: { secret: NAME }` or a header value `secret:NAME`.",
    // Schemas built on first use (../first-use.ts).
    get input() {
      return input();
    },
    get output() {
      return outputSchema();
    },
    capabilities: ["network.egress"],
    // A backstop only: the call enforces its own (possibly lower) limit with a clearer message.
    timeoutMs: options.timeoutMs + 1_000,
    async run(input, ctx) {
      const headers = await resolveHeaders(input, ctx);
      const redactor = new SecretRedactor(headers.secretValues);
      const limitMs = input.timeoutMs ?? options.timeoutMs;
      const timer = AbortSignal.timeout(limitMs);
      const signal = AbortSignal.any([ctx.signal, timer]);
      const started = performance.now();
      let url = withQuery(new URL(input.url), input.query);
      let method: string = input.method;
      let body = requestBody(input);
      let sent = headers.values;
      const redirects: string[] = [];
      ctx.span.setAttributes({
        "http.request.method": method,
        "server.address": url.hostname,
        "url.scheme": url.protocol.slice(0, -1),
      });
      try {
        for (;;) {
          const address = await untilAborted(guard.check(url), signal);
          const response = await exchange({
            url,
            address,
            method,
            headers: body ? { ...sent, "content-length": String(body.length) } : sent,
            ...(body ? { body } : {}),
            maxResponseBytes: input.maxResponseBytes ?? options.maxResponseBytes,
            signal,
            ...(trusted ? { ca: trusted } : {}),
          });
          const location = response.headers.location;
          if (!input.followRedirects || !REDIRECTS.has(response.status) || !location) {
            ctx.span.setAttribute("http.response.status_code", response.status);
            ctx.logger.debug(
              {
                method,
                url: `${url.origin}${url.pathname}`,
                status: response.status,
                bytes: response.body.length,
                redirects: redirects.length,
                ms: Math.round(performance.now() - started),
              },
              "http.request done",
            );
            return outputOf(
              url,
              response,
              parseBody(response, method, input.responseType, redactor),
              redirects,
              redactor,
            );
          }
          if (redirects.length >= maxRedirects) {
            throw new ToolError(
              `http.request stopped after ${maxRedirects} redirects (last to ${redactor.text(location)})`,
              {
                code: "too_many_redirects",
                retryable: false,
              },
            );
          }
          const next = nextUrl(url, location, redactor);
          if (
            response.status === 303
              ? method !== "HEAD"
              : (response.status === 301 || response.status === 302) && method === "POST"
          ) {
            method = "GET";
            body = undefined;
            sent = withoutHeader(sent, "content-type");
          }
          if (next.origin !== url.origin) sent = withoutCredentials(sent, headers.secretHeaders);
          redirects.push(redactor.text(next.href));
          url = next;
        }
      } catch (error) {
        throw failure(error, url, limitMs, timer, ctx, redactor);
      }
    },
  };
}

interface ResolvedHeaders {
  values: Record<string, string>;
  /** Lower-case names of the headers that carry a secret. */
  secretHeaders: Set<string>;
  secretValues: string[];
}

async function resolveHeaders(input: HttpRequestInput, ctx: ToolContext): Promise<ResolvedHeaders> {
  const values: Record<string, string> = { "accept-encoding": "gzip, deflate, br" };
  const secretHeaders = new Set<string>();
  const secretValues: string[] = [];
  if (input.json !== undefined) values["content-type"] = "application/json";
  else if (input.body !== undefined) values["content-type"] = "text/plain; charset=utf-8";
  for (const [name, value] of Object.entries(input.headers)) {
    const key = name.toLowerCase();
    if (value.startsWith(SECRET_PREFIX)) {
      const secret = await ctx.secrets.require(value.slice(SECRET_PREFIX.length));
      values[key] = secret;
      secretHeaders.add(key);
      secretValues.push(secret);
    } else {
      values[key] = value;
    }
  }
  if (input.auth) {
    const secret = await ctx.secrets.require(input.auth.secret);
    values.authorization = `${input.auth.scheme} ${secret}`;
    secretHeaders.add("authorization");
    secretValues.push(secret);
  }
  for (const [key, value] of Object.entries(values)) {
    if (/[\r\n\0]/.test(value)) {
      throw new ToolError(`the value for header ${key} contains a line break (check the secret's value)`, {
        code: "validation",
        retryable: false,
      });
    }
  }
  return { values, secretHeaders, secretValues };
}

function requestBody(input: HttpRequestInput): Buffer | undefined {
  if (input.json !== undefined) return Buffer.from(JSON.stringify(input.json));
  if (input.body !== undefined) return Buffer.from(input.body);
  return undefined;
}

function withQuery(url: URL, query: HttpRequestInput["query"]): URL {
  for (const [name, value] of Object.entries(query ?? {})) url.searchParams.append(name, String(value));
  return url;
}

function nextUrl(current: URL, location: string, redactor: SecretRedactor): URL {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new ToolError(`http.request got a redirect to an invalid URL: ${redactor.text(location)}`, {
      code: "bad_redirect",
      retryable: false,
    });
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new ToolError(
      `http.request refused a redirect to ${next.protocol} (only http and https are followed)`,
      {
        code: "bad_redirect",
        retryable: false,
      },
    );
  }
  return next;
}

function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _dropped, ...rest } = headers;
  return rest;
}

function withoutCredentials(
  headers: Record<string, string>,
  secretHeaders: Set<string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([key]) => !CREDENTIAL_HEADERS.has(key) && !secretHeaders.has(key)),
  );
}

function outputOf(
  url: URL,
  response: ReceivedResponse,
  parsed: ParsedBody,
  redirects: string[],
  redactor: SecretRedactor,
): HttpRequestOutput {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name] = redactor.text(Array.isArray(value) ? value.join(", ") : value);
  }
  return {
    status: response.status,
    ok: response.status >= 200 && response.status < 300,
    url: redactor.text(url.href),
    headers,
    bodyType: parsed.type,
    body: parsed.body,
    redirects,
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function failure(
  error: unknown,
  url: URL,
  limitMs: number,
  timer: AbortSignal,
  ctx: ToolContext,
  redactor: SecretRedactor,
): ToolError {
  const target = `${url.protocol}//${url.host}`;
  let result: ToolError;
  if (timer.aborted) {
    result = new ToolError(`http.request to ${target} took longer than ${limitMs} ms`, {
      code: "timeout",
      retryable: true,
    });
  } else if (ctx.signal.aborted) {
    result = new ToolError(`http.request to ${target} was cancelled`, { code: "cancelled", retryable: true });
  } else if (error instanceof ToolError) {
    result = new ToolError(redactor.text(error.message), { code: error.code, retryable: error.retryable });
  } else {
    const message = error instanceof Error ? error.message : String(error);
    result = new ToolError(`http.request to ${target} failed: ${redactor.text(message)}`, {
      code: "network_error",
      retryable: true,
    });
  }
  ctx.logger.warn({ url: `${url.origin}${url.pathname}`, code: result.code }, result.message);
  return result;
}
