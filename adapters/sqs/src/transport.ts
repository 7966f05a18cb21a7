import {
  type AwsCredentials,
  type AwsJsonClient,
  AwsJsonRestClient,
  credentialsFromEnv,
  defaultEndpoint,
} from "@aat/adapter-aws-json";
import type { SQSClient } from "@aws-sdk/client-sqs";

/** How the adapter speaks to SQS: "rest" (fetch + SigV4, no SDK loaded), "sdk", or "auto" to choose. */
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

/** What the REST transport needs, found in the options and the environment. */
export interface RestConnection {
  region: string;
  credentials: AwsCredentials;
  endpoint: string;
}

export type TransportChoice =
  | { transport: "rest"; connection: RestConnection }
  | { transport: "sdk"; reason: string };

/**
 * The REST connection the options and the environment give: credentials (options, else
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN), region (options, else AWS_REGION,
 * else AWS_DEFAULT_REGION) and endpoint (options, else AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL,
 * else the regional one); or what is missing.
 */
export function restConnection(
  options: TransportOptions,
  env: Env,
): { connection: RestConnection } | { missing: string } {
  const credentials = options.credentials ?? credentialsFromEnv(env);
  const region = options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const missing = [
    ...(credentials
      ? []
      : ["credentials (the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"]),
    ...(region ? [] : ["a region (the region option, AWS_REGION or AWS_DEFAULT_REGION)"]),
  ];
  if (!credentials || !region) return { missing: missing.join(" and ") };
  const endpoint =
    options.endpoint ?? (env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || defaultEndpoint("sqs", region));
  return { connection: { region, credentials, endpoint } };
}

/**
 * Which transport a queue uses. "auto" is REST when no client was passed, credentials and a region are
 * known (a Lambda function's environment has both) and no FIPS or dual-stack endpoint is asked for
 * without an explicit endpoint (the SDK resolves those; the REST client knows only the regional one);
 * otherwise the SDK, whose provider chain finds instance and container roles, SSO and profiles.
 */
export function chooseTransport(options: TransportOptions, env: Env): TransportChoice {
  const wanted = options.transport ?? "auto";
  if (options.client !== undefined) {
    if (wanted === "rest") {
      throw new TypeError(
        'SqsQueue: transport "rest" cannot use an SQSClient passed as client; drop the client or the transport',
      );
    }
    return { transport: "sdk", reason: "an SQSClient was passed" };
  }
  if (wanted === "sdk") return { transport: "sdk", reason: 'transport "sdk"' };
  const found = restConnection(options, env);
  if (wanted === "rest") {
    if ("missing" in found) {
      throw new TypeError(
        `SqsQueue: transport "rest" needs ${found.missing}; or use transport "sdk" or "auto"`,
      );
    }
    return { transport: "rest", connection: found.connection };
  }
  if ("missing" in found) return { transport: "sdk", reason: `no ${found.missing}` };
  if (options.endpoint === undefined && !env.AWS_ENDPOINT_URL_SQS && !env.AWS_ENDPOINT_URL) {
    for (const name of ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"]) {
      if (env[name]?.toLowerCase() === "true") return { transport: "sdk", reason: `${name} is true` };
    }
  }
  return { transport: "rest", connection: found.connection };
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
