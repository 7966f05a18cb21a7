import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from "@aws-sdk/client-dynamodb";
import type { z } from "zod";
import {
  type connectionFields,
  type DynamoTableOptions,
  parseOptions,
  tableOptionsSchema,
} from "./options.js";

/**
 * The key schema (see docs/adapters.md, "DynamoDB"):
 * - `pk` (partition key, S): the bucket, i.e. the key up to and including its first "/" ("runs/" for
 *   "runs/r1/state"), or "#" for keys without a "/".
 * - `sk` (sort key, S): the whole key.
 * Every prefix that contains a "/" lies inside one bucket, so `list` is a Query on `pk` with
 * `begins_with(sk, prefix)`, in sort-key (UTF-8 byte) order.
 */
export const ATTR = {
  bucket: "pk",
  key: "sk",
  version: "ver",
  /** JSON text of any value that is not a number stored in `number`. */
  json: "v",
  /** Numbers (so `increment` is one atomic ADD on the server). */
  number: "n",
  /** Exact expiry, epoch milliseconds: reads treat the item as absent from then on. */
  expiresAt: "exp",
  /** The table's TTL attribute (epoch seconds): DynamoDB deletes the item some time after it. */
  ttl: "ttl",
} as const;

export const ROOT_BUCKET = "#";

/** The partition an item lives in: the key's first path segment with its "/", or "#". */
export function bucketOf(key: string): string {
  const slash = key.indexOf("/");
  return slash === -1 ? ROOT_BUCKET : key.slice(0, slash + 1);
}

type Connection = Omit<z.output<typeof tableOptionsSchema>, "tableName">;

/** A client for the connection options, and whether the caller owns it (built here: destroy on close). */
export function clientFor(options: Pick<Connection, keyof typeof connectionFields>): {
  client: DynamoDBClient;
  owned: boolean;
} {
  if (options.client) return { client: options.client, owned: false };
  return {
    client: new DynamoDBClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    }),
    owned: true,
  };
}

/**
 * Creates the table (on-demand billing) with TTL on the `ttl` attribute when it does not exist yet, and
 * waits until it is active. Idempotent: an existing table is left as it is, TTL switched on if it was off.
 */
export async function createTable(input: DynamoTableOptions): Promise<void> {
  const options = parseOptions(tableOptionsSchema, input, "DynamoKeyValue.createTable");
  const { client, owned } = clientFor(options);
  const TableName = options.tableName;
  try {
    try {
      await client.send(
        new CreateTableCommand({
          TableName,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: ATTR.bucket, AttributeType: "S" },
            { AttributeName: ATTR.key, AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: ATTR.bucket, KeyType: "HASH" },
            { AttributeName: ATTR.key, KeyType: "RANGE" },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== "ENABLED" && status !== "ENABLING") {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: ATTR.ttl },
        }),
      );
    }
  } finally {
    if (owned) client.destroy();
  }
}

/** Deletes the table and waits until it is gone; a missing table is fine. For tests and teardown. */
export async function deleteTable(input: DynamoTableOptions): Promise<void> {
  const options = parseOptions(tableOptionsSchema, input, "DynamoKeyValue.deleteTable");
  const { client, owned } = clientFor(options);
  try {
    try {
      await client.send(new DeleteTableCommand({ TableName: options.tableName }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
    await waitUntilTableNotExists(
      { client, maxWaitTime: 120, minDelay: 1 },
      { TableName: options.tableName },
    );
  } finally {
    if (owned) client.destroy();
  }
}
