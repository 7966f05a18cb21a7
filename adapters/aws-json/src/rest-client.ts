import { randomUUID } from "node:crypto";
import type { Agent, IncomingMessage } from "node:http";
import aws4 from "aws4";
import pRetry from "p-retry";
import { type AwsJsonClient, AwsServiceError } from "./client.js";
import type { AwsCredentials } from "./credentials.js";

/** The services spoken here, with the JSON protocol's target prefix. */
const SERVICES = {
  dynamodb: { target: "DynamoDB_20120810", contentType: "application/x-amz-json-1.0" },
  sqs: { target: "AmazonSQS", contentType: "application/x-amz-json-1.0" },
} as const;

export type AwsJsonService = keyof typeof SERVICES;

/**
 * Operations whose input has an idempotency token the SDK fills in when the caller did not: a retried
 * TransactWriteItems with the same token succeeds again instead of failing its own conditions.
 */
const IDEMPOTENCY_TOKENS: Record<string, string> = { TransactWriteItems: "ClientRequestToken" };

/**
 * Error names the SDK's standard retry strategy treats as throttling or transient (its
 * THROTTLING_ERROR_CODES and TRANSIENT_ERROR_CODES), retried here the same way.
 */
const RETRYABLE = new Set([
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestTimeout",
  "RequestTimeoutException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TimeoutError",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);

export interface AwsJsonRestOptions {
  service: AwsJsonService;
  region: string;
  credentials: AwsCredentials;
  /** Default `https://<service>.<region>.amazonaws.com` (`.com.cn` in China regions). */
  endpoint?: string;
  /** Attempts per call, the first included (default 3, as the SDK's standard retry strategy). */
  maxAttempts?: number;
  /** Delay before the first retry; doubled each time, with jitter (default 50 ms). */
  retryBaseMs?: number;
  /** How a signed request is sent (default: node:http or node:https with keep-alive); for tests. */
  send?: HttpSend;
}

/** One signed POST and its answer. */
export type HttpSend = (request: {
  url: URL;
  headers: Record<string, string>;
  body: string;
}) => Promise<{ status: number; headers: Record<string, string | undefined>; body: string }>;

/** The service's regional endpoint. */
export function defaultEndpoint(service: AwsJsonService, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/**
 * An AWS JSON-protocol client over node:http(s) with SigV4 (aws4): a cold start that uses it loads a few
 * KiB instead of the SDK's client, middleware stack and credential chain (docs/benchmarks.md, cold
 * start). Not fetch: its first request compiles undici and WebCrypto, ~45 ms of CPU on Node 22 against
 * ~10 for node:http (docs/decisions.md). Retries throttling, 5xx and network failures with exponential
 * backoff and jitter (p-retry), as the SDK's standard strategy does; an error answer is thrown as an
 * AwsServiceError named like the SDK's (`ConditionalCheckFailedException`, `QueueDoesNotExist`, …).
 */
export class AwsJsonRestClient implements AwsJsonClient {
  private readonly url: URL;
  private readonly target: string;
  private readonly contentType: string;
  private readonly send: HttpSend;
  private agent: Agent | undefined;

  constructor(private readonly options: AwsJsonRestOptions) {
    this.url = new URL(options.endpoint ?? defaultEndpoint(options.service, options.region));
    this.target = SERVICES[options.service].target;
    this.contentType = SERVICES[options.service].contentType;
    this.send = options.send ?? ((request) => this.sendWithNode(request));
  }

  async call<O = Record<string, unknown>>(operation: string, input: object): Promise<O> {
    const token = IDEMPOTENCY_TOKENS[operation];
    const body = JSON.stringify(token && !(token in input) ? { ...input, [token]: randomUUID() } : input);
    return pRetry(() => this.once<O>(operation, body), {
      retries: Math.max(0, (this.options.maxAttempts ?? 3) - 1),
      minTimeout: this.options.retryBaseMs ?? 50,
      factor: 2,
      maxTimeout: 5_000,
      randomize: true,
      shouldRetry: ({ error }) => retryable(error),
    });
  }

  destroy(): void {
    this.agent?.destroy();
  }

  private async once<O>(operation: string, body: string): Promise<O> {
    const { service, region, credentials } = this.options;
    // Signed per attempt: the signature covers the time, and a retry may come minutes later.
    const signed = aws4.sign(
      {
        host: this.url.host,
        path: this.url.pathname,
        method: "POST",
        service,
        region,
        headers: { "content-type": this.contentType, "x-amz-target": `${this.target}.${operation}` },
        body,
      },
      credentials,
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers ?? {})) headers[name] = String(value);
    const answer = await this.send({ url: this.url, headers, body });
    if (answer.status >= 200 && answer.status < 300) return (answer.body ? JSON.parse(answer.body) : {}) as O;
    throw errorFrom(operation, answer);
  }

  /** node:http(s) (loaded on the first call: TLS is not part of a cold start that never calls). */
  private sendWithNode({ url, headers, body }: Parameters<HttpSend>[0]): ReturnType<HttpSend> {
    const https = url.protocol === "https:";
    const http = process.getBuiltinModule(https ? "node:https" : "node:http") as typeof import("node:https");
    this.agent ??= new http.Agent({ keepAlive: true });
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: "POST",
          headers: { ...headers, "content-length": Buffer.byteLength(body) },
          agent: this.agent,
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: {
                "x-amzn-errortype": header(response, "x-amzn-errortype"),
                "x-amzn-requestid": header(response, "x-amzn-requestid"),
              },
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function retryable(error: Error): boolean {
  if (error instanceof AwsServiceError)
    return error.$fault === "server" || error.$metadata.httpStatusCode === 429 || RETRYABLE.has(error.name);
  // The connection failed or broke (refused, reset, a keep-alive socket closed while the function was
  // frozen; node's system errors carry a code): the SDK retries those too. Anything else is a bug.
  return typeof (error as { code?: unknown }).code === "string";
}

/** `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":…}` → error. */
function errorFrom(operation: string, answer: Awaited<ReturnType<HttpSend>>): AwsServiceError {
  const { status, headers, body: text } = answer;
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's or load balancer's page): the status and text say what happened.
  }
  const { __type, message, Message, ...details } = body;
  const type = typeof __type === "string" ? __type : (headers["x-amzn-errortype"] ?? "");
  const name = type.split("#").at(-1)?.split(":")[0] || `Http${status}`;
  // The service's own message, as the SDK's errors carry it (adapters quote it in theirs).
  const said = typeof message === "string" ? message : typeof Message === "string" ? Message : "";
  return new AwsServiceError(
    name,
    said || `${operation} answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`,
    status,
    details,
    headers["x-amzn-requestid"],
  );
}
