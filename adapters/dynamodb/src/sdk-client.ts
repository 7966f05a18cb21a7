import { SdkCommandClient } from "@aat/adapter-aws-json";
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoOperation } from "./operations.js";

/** Each operation the adapter sends, as the SDK's Command class. */
const COMMANDS = {
  DeleteItem: DeleteItemCommand,
  DescribeTable: DescribeTableCommand,
  DescribeTimeToLive: DescribeTimeToLiveCommand,
  GetItem: GetItemCommand,
  PutItem: PutItemCommand,
  Query: QueryCommand,
  Scan: ScanCommand,
  TransactWriteItems: TransactWriteItemsCommand,
  UpdateItem: UpdateItemCommand,
} satisfies Record<DynamoOperation, unknown>;

export interface SdkClientOptions {
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }
    | undefined;
}

/**
 * The adapter's operations through the AWS SDK's DynamoDBClient: its provider chain for credentials
 * (instance and container roles, profiles, SSO), its region and endpoint resolution (FIPS, dual-stack,
 * AWS_ENDPOINT_URL_DYNAMODB), retries and idempotency tokens. Loaded with `import()` only when the SDK
 * transport is chosen, so a cold start on the REST transport never evaluates the SDK.
 *
 * Errors are the SDK's own (ConditionalCheckFailedException with `Item`, TransactionCanceledException
 * with `CancellationReasons`, as fields of the error); the adapter reads them by name, not by class.
 */
export class SdkJsonClient extends SdkCommandClient {
  readonly transport = "sdk";

  private constructor(client: DynamoDBClient, owned: boolean) {
    super(client, COMMANDS, owned, "DynamoKeyValue");
  }

  /** Wraps a client the caller owns: `destroy` leaves it open. */
  static wrap(client: DynamoDBClient): SdkJsonClient {
    return new SdkJsonClient(client, false);
  }

  /** Builds a client (destroyed with this one); what is not given, the SDK resolves on its own. */
  static create(options: SdkClientOptions): SdkJsonClient {
    const client = new DynamoDBClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    return new SdkJsonClient(client, true);
  }
}
