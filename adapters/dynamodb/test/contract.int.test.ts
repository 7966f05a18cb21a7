import { keyValueContract } from "@aat/core/testing";
import { afterAll, beforeAll, describe } from "vitest";
import { DynamoKeyValue } from "../src/index.js";
import { awsTestConnection, serialClientFor, TRANSPORTS, uniqueTableName } from "./aws-env.js";

describe.each(TRANSPORTS)("DynamoKeyValue on moto (%s transport)", (transport) => {
  const client = serialClientFor(transport);
  const tableName = uniqueTableName(`kv-contract-${transport}`);

  beforeAll(async () => {
    // Twice: creating an existing table is a no-op.
    await DynamoKeyValue.createTable({ ...awsTestConnection, tableName });
    await DynamoKeyValue.createTable({ ...awsTestConnection, tableName });
  });
  afterAll(async () => {
    await DynamoKeyValue.deleteTable({ ...awsTestConnection, tableName });
    client.destroy();
  });

  keyValueContract(`DynamoKeyValue (${transport})`, async () => {
    const kv = await DynamoKeyValue.connect({ tableName, client });
    if (kv.transport !== transport)
      throw new Error(`expected the ${transport} transport, got ${kv.transport}`);
    return { kv };
  });
});
