import { keyValueContract } from "@aat/core/testing";
import { afterAll, beforeAll, describe } from "vitest";
import { DynamoKeyValue } from "../src/index.js";
import { awsTestConnection, serialClient, uniqueTableName } from "./aws-env.js";

const client = serialClient();

const tableName = uniqueTableName("kv-contract");

describe("DynamoKeyValue on moto", () => {
  beforeAll(async () => {
    // Twice: creating an existing table is a no-op.
    await DynamoKeyValue.createTable({ ...awsTestConnection, tableName });
    await DynamoKeyValue.createTable({ ...awsTestConnection, tableName });
  });
  afterAll(async () => {
    await DynamoKeyValue.deleteTable({ ...awsTestConnection, tableName });
    client.destroy();
  });

  keyValueContract("DynamoKeyValue", async () => ({
    kv: await DynamoKeyValue.connect({ tableName, client }),
  }));
});
