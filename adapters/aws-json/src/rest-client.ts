import { AwsClient } from "aws4fetch";
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
  /** For tests. */
  fetch?: typeof fetch;
}

/** The service's regional endpoint. */
export function defaultEndpoint(service: AwsJsonService, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/**
 * An AWS JSON-protocol client over fetch with SigV4 (aws4fetch): a cold start that uses it loads a few
 * KiB instead of the SDK's client, middleware stack and credential chain (docs/benchmarks.md, cold
 * start). Retries throttling, 5xx and network failures with exponential backoff and jitter (p-retry),
 * as the SDK's standard strategy does; an error answer is thrown as an AwsServiceError named like the
 * SDK's (`ConditionalCheckFailedException`, `QueueDoesNotExist`, …).
 */
export class AwsJsonRestClient implements AwsJsonClient {
  private readonly signer: AwsClient;
  private readonly url: string;
  private readonly target: string;
  private readonly contentType: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AwsJsonRestOptions) {
    const { service, region, credentials } = options;
    this.signer = new AwsClient({ ...credentials, service, region, retries: 0 });
    this.url = options.endpoint ?? defaultEndpoint(service, region);
    this.target = SERVICES[service].target;
    this.contentType = SERVICES[service].contentType;
    this.fetch = options.fetch ?? fetch;
  }

  async call<O = Record<string, unknown>>(operation: string, input: object): Promise<O> {
    const token = IDEMPOTENCY_TOKENS[operation];
    const body = JSON.stringify(
      token && !(token in input) ? { ...input, [token]: crypto.randomUUID() } : input,
    );
    return pRetry(() => this.once<O>(operation, body), {
      retries: Math.max(0, (this.options.maxAttempts ?? 3) - 1),
      minTimeout: this.options.retryBaseMs ?? 50,
      factor: 2,
      maxTimeout: 5_000,
      randomize: true,
      shouldRetry: ({ error }) => retryable(error),
    });
  }

  destroy(): void {}

  private async once<O>(operation: string, body: string): Promise<O> {
    const request = await this.signer.sign(this.url, {
      method: "POST",
      headers: { "content-type": this.contentType, "x-amz-target": `${this.target}.${operation}` },
      body,
    });
    const response = await this.fetch(request);
    const text = await response.text();
    if (response.ok) return (text ? JSON.parse(text) : {}) as O;
    throw errorFrom(operation, response, text);
  }
}

function retryable(error: Error): boolean {
  if (error instanceof AwsServiceError)
    return error.$fault === "server" || error.$metadata.httpStatusCode === 429 || RETRYABLE.has(error.name);
  // fetch's own failures (connection refused or reset, DNS): p-retry passes only network TypeErrors here.
  return true;
}

/** `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":…}` → error. */
function errorFrom(operation: string, response: Response, text: string): AwsServiceError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's or load balancer's page): the status and text say what happened.
  }
  const { __type, message, Message, ...details } = body;
  const type = typeof __type === "string" ? __type : (response.headers.get("x-amzn-errortype") ?? "");
  const name = type.split("#").at(-1)?.split(":")[0] || `Http${response.status}`;
  // The service's own message, as the SDK's errors carry it (adapters quote it in theirs).
  const said = typeof message === "string" ? message : typeof Message === "string" ? Message : "";
  return new AwsServiceError(
    name,
    said || `${operation} answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
    response.status,
    details,
    response.headers.get("x-amzn-requestid") ?? undefined,
  );
}
