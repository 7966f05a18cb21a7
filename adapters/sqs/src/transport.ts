import {
  type AwsCredentials,
  type AwsJsonClient,
  AwsJsonRestClient,
  chooseAwsTransport,
  type TransportChoice,
} from "@aat/adapter-aws-json";
import type { SQSClient } from "@aws-sdk/client-sqs";

/** How the adapter speaks to SQS: "rest" (HTTPS + SigV4, no SDK loaded), "sdk", or "auto" to choose. */
export type SqsTransport = "auto" | "sdk" | "rest";

type Env = Readonly<Record<string, string | undefined>>;

export interface TransportOptions {
  transport?: SqsTransport | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?: AwsCredentials | undefined;
  /** The caller's SDK client: the SDK transport, left open on close. */
  client?: SQSClient | undefined;
}

/**
 * Which transport a queue uses: an SQSClient passed in is the SDK transport; otherwise
 * `chooseAwsTransport` (adapters/aws-json): REST when credentials and a region are known (a Lambda
 * function's environment has both), the SDK otherwise.
 */
export function chooseTransport(options: TransportOptions, env: Env): TransportChoice {
  if (options.client !== undefined) {
    if (options.transport === "rest") {
      throw new TypeError(
        'SqsQueue: transport "rest" cannot use an SQSClient passed as client; drop the client or the transport',
      );
    }
    return { transport: "sdk", reason: "an SQSClient was passed" };
  }
  return chooseAwsTransport("sqs", "SqsQueue", options, env);
}

/**
 * The client for the chosen transport: a REST client, or an SDK one loaded now with `import()` (so a
 * bundle keeps the SDK in a chunk of its own that the REST transport never loads).
 */
export async function openSqsClient(
  options: TransportOptions,
  env: Env,
): Promise<{ client: AwsJsonClient; transport: "sdk" | "rest" }> {
  const choice = chooseTransport(options, env);
  if (choice.transport === "rest") {
    return { client: new AwsJsonRestClient({ service: "sqs", ...choice.connection }), transport: "rest" };
  }
  const { sdkJsonClient, wrapSdkClient } = await import("./sdk-client.js");
  return {
    client: options.client ? wrapSdkClient(options.client) : sdkJsonClient(options),
    transport: "sdk",
  };
}
