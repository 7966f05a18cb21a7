import {
  type AwsCredentials,
  type AwsJsonClient,
  AwsJsonRestClient,
  chooseAwsTransport,
} from "@aat/adapter-aws-json";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** How the adapter reaches DynamoDB: the AWS SDK's client, or its JSON API over HTTPS (no SDK loaded). */
export type Transport = "sdk" | "rest";

type Env = Readonly<Record<string, string | undefined>>;

/** The connection options that decide the transport. */
export interface TransportOptions {
  transport?: "auto" | Transport | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?: AwsCredentials | undefined;
  client?: DynamoDBClient | AwsJsonClient | undefined;
}

/** What `resolveTransport` decided, and what the client needs. */
export type TransportPlan =
  /** A client the caller passed: used as it is, never destroyed by the adapter. */
  | { transport: "sdk"; given: DynamoDBClient }
  | { transport: "rest"; given: AwsJsonClient }
  /** The SDK with the options given; what is missing, the SDK resolves (provider chain, AWS_REGION, …). */
  | {
      transport: "sdk";
      given?: undefined;
      region?: string;
      endpoint?: string;
      credentials?: AwsCredentials;
    }
  /** HTTPS + SigV4, everything resolved here. */
  | { transport: "rest"; given?: undefined; region: string; endpoint: string; credentials: AwsCredentials };

function isSdkClient(client: DynamoDBClient | AwsJsonClient): client is DynamoDBClient {
  return typeof (client as { send?: unknown }).send === "function";
}

/**
 * Which transport a DynamoKeyValue uses (docs/adapters.md, "DynamoDB"; docs/decisions.md): a `client`
 * passed in decides (an SDK DynamoDBClient is the SDK transport, an AwsJsonClient is used as it is, the
 * REST transport); otherwise `chooseAwsTransport` (adapters/aws-json): REST when credentials and a region
 * are known (as on Lambda), the SDK otherwise.
 */
export function resolveTransport(options: TransportOptions, env: Env = process.env): TransportPlan {
  const wanted = options.transport ?? "auto";
  const { client } = options;
  if (client !== undefined) {
    const transport: Transport = isSdkClient(client) ? "sdk" : "rest";
    if (wanted !== "auto" && wanted !== transport) {
      throw new TypeError(
        `DynamoKeyValue: transport "${wanted}" cannot use the client passed in, ${
          transport === "sdk" ? "an SDK DynamoDBClient" : "an AwsJsonClient"
        }; drop the transport option or the client`,
      );
    }
    return isSdkClient(client) ? { transport: "sdk", given: client } : { transport: "rest", given: client };
  }
  const choice = chooseAwsTransport("dynamodb", "DynamoKeyValue", options, env);
  if (choice.transport === "rest") return { transport: "rest", ...choice.connection };
  return {
    transport: "sdk",
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

/**
 * The client of a plan, and whether the adapter owns it (destroys it on close). The SDK is loaded with
 * `import()` on the first call, so building an SDK-transport adapter stays synchronous and a
 * REST-transport one never loads it.
 */
export function openClient(plan: TransportPlan): { client: AwsJsonClient; owned: boolean } {
  if (plan.transport === "rest") {
    if (plan.given) return { client: plan.given, owned: false };
    const { region, endpoint, credentials } = plan;
    return {
      client: new AwsJsonRestClient({ service: "dynamodb", region, endpoint, credentials }),
      owned: true,
    };
  }
  const { given } = plan;
  return {
    client: new LazySdkClient(async () => {
      const { SdkJsonClient } = await import("./sdk-client.js");
      return given ? SdkJsonClient.wrap(given) : SdkJsonClient.create(plan);
    }),
    // A given SDK client is wrapped, not owned: destroying the wrapper leaves it open.
    owned: true,
  };
}

/** Loads the SDK-backed client on the first call. */
class LazySdkClient implements AwsJsonClient {
  private loaded: Promise<AwsJsonClient> | undefined;

  constructor(private readonly load: () => Promise<AwsJsonClient>) {}

  async call<O = Record<string, unknown>>(operation: string, input: object): Promise<O> {
    this.loaded ??= this.load();
    return await (await this.loaded).call<O>(operation, input);
  }

  destroy(): void {
    void this.loaded?.then(
      (client) => client.destroy(),
      () => undefined,
    );
  }
}
