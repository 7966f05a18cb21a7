import { isAwsError } from "@aat/adapter-aws-json";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from "@aws-sdk/client-dynamodb";
import type { z } from "zod";
import { ATTR } from "./layout.js";
import { type DynamoTableOptions, parseOptions, tableOptionsSchema } from "./options.js";

/*
 * Table management through the AWS SDK (its waiters): for tests, provisioning and `createTable: true`.
 * Loaded with import() only then; the adapter's own calls go through an AwsJsonClient.
 */

type Connection = Omit<z.output<typeof tableOptionsSchema>, "tableName">;

/** An SDK client for the connection options, and whether it was built here (destroy it after). */
function clientFor(options: Connection): { client: DynamoDBClient; owned: boolean } {
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
      if (!isAwsError(error, "ResourceInUseException")) throw error;
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
      if (isAwsError(error, "ResourceNotFoundException")) return;
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
