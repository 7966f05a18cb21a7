/**
 * One AWS service spoken in its JSON protocol (DynamoDB, SQS): an operation as the API reference names
 * it and its input; resolves to the operation's output, in the wire's JSON shape (which is also what the
 * AWS SDK's low-level clients return for the fields the adapters read: strings, numbers, maps of
 * attribute values). Two implementations: `AwsJsonRestClient` (HTTPS + SigV4, no SDK loaded) and each
 * adapter's SDK-backed one (the SDK's provider chain for credentials, FIPS and dual-stack endpoints).
 */
export interface AwsJsonClient {
  call<O = Record<string, unknown>>(operation: string, input: object): Promise<O>;
  /** Frees what the client holds (sockets of an SDK client); a REST client holds nothing. */
  destroy(): void;
}

/** An error answer from the service, named as the SDK names it (`ConditionalCheckFailedException`, …). */
export class AwsServiceError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  /** The rest of the error body (e.g. DynamoDB's `CancellationReasons`). */
  readonly details: Record<string, unknown>;

  constructor(
    name: string,
    message: string,
    status: number,
    details: Record<string, unknown>,
    requestId?: string,
  ) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? "server" : "client";
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
    this.details = details;
  }
}

/**
 * Whether `error` is the service's error of one of these names, from either client: the SDK's error
 * classes and AwsServiceError both carry the error's name (so no `instanceof` on an SDK class, which
 * would load the SDK).
 */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}
