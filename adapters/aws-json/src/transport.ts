import { type AwsCredentials, credentialsFromEnv } from "./credentials.js";
import { type AwsJsonService, defaultEndpoint } from "./rest-client.js";

/** How an adapter reaches its service: its JSON API over HTTPS (no SDK loaded), the AWS SDK, or auto. */
export type AwsTransport = "auto" | "rest" | "sdk";

type Env = Readonly<Record<string, string | undefined>>;

/** The connection options an adapter was given (what is missing comes from the environment). */
export interface AwsConnectionOptions {
  transport?: AwsTransport | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?: AwsCredentials | undefined;
}

/** What the REST transport needs, all of it resolved. */
export interface RestConnection {
  region: string;
  endpoint: string;
  credentials: AwsCredentials;
}

export type TransportChoice =
  | { transport: "rest"; connection: RestConnection }
  /** The SDK resolves what the options leave out (provider chain, AWS_REGION, endpoint variants). */
  | { transport: "sdk"; reason: string };

/** The SDK's per-service endpoint variable (AWS_ENDPOINT_URL_<SERVICE>), honoured here as the SDK does. */
const ENDPOINT_ENV: Record<AwsJsonService, string> = {
  dynamodb: "AWS_ENDPOINT_URL_DYNAMODB",
  sqs: "AWS_ENDPOINT_URL_SQS",
};

/**
 * Which transport an adapter uses (docs/adapters.md, "AWS transports"), for adapters built without a
 * client of their own:
 * - `"auto"` (the default) is REST when credentials (the option, or AWS_ACCESS_KEY_ID and
 *   AWS_SECRET_ACCESS_KEY, as on Lambda) and a region (the option, AWS_REGION or AWS_DEFAULT_REGION) are
 *   known, and the environment asks for no FIPS or dual-stack endpoint without naming one; otherwise the
 *   SDK, whose provider chain finds instance and container roles, profiles and SSO.
 * - `"rest"` without credentials or region, or with such an endpoint variant, is a TypeError naming what
 *   to set (FIPS traffic must not silently go to another endpoint); `"sdk"` always uses the SDK.
 * REST's endpoint: the option, else AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else the region's.
 */
export function chooseAwsTransport(
  service: AwsJsonService,
  who: string,
  options: AwsConnectionOptions,
  env: Env = process.env,
): TransportChoice {
  const wanted = options.transport ?? "auto";
  if (wanted === "sdk") return { transport: "sdk", reason: 'transport "sdk"' };
  const credentials = options.credentials ?? credentialsFromEnv(env);
  const region = options.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const endpoint = options.endpoint ?? (env[ENDPOINT_ENV[service]] || env.AWS_ENDPOINT_URL || undefined);
  const missing = [
    ...(credentials
      ? []
      : ["credentials (the credentials option, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"]),
    ...(region ? [] : ["a region (the region option, AWS_REGION or AWS_DEFAULT_REGION)"]),
  ].join(" and ");
  const variant = endpoint === undefined ? endpointVariant(env) : undefined;
  if (wanted === "auto") {
    if (missing) return { transport: "sdk", reason: `no ${missing}` };
    if (variant) return { transport: "sdk", reason: `${variant} endpoints asked for by the environment` };
  }
  if (!credentials || !region) {
    throw new TypeError(
      `${who}: transport "rest" needs ${missing}; set them, or use transport "sdk" (or "auto") to let the ` +
        "AWS SDK find them (instance or container role, profile, SSO)",
    );
  }
  if (variant) {
    throw new TypeError(
      `${who}: transport "rest" does not derive ${variant} endpoints (asked for by the environment); set the ` +
        `endpoint option (or ${ENDPOINT_ENV[service]}) to the one to use, or use transport "sdk"`,
    );
  }
  return {
    transport: "rest",
    connection: { region, credentials, endpoint: endpoint ?? defaultEndpoint(service, region) },
  };
}

/** FIPS or dual-stack endpoints asked for through the environment, which only the SDK derives. */
function endpointVariant(env: Env): string | undefined {
  const on = (name: string) => env[name]?.toLowerCase() === "true";
  if (on("AWS_USE_FIPS_ENDPOINT")) return "FIPS";
  if (on("AWS_USE_DUALSTACK_ENDPOINT")) return "dual-stack";
  return undefined;
}
