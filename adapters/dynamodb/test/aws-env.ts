import { Agent } from "node:http";
import { motoUrl } from "@aat/core/testing";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/**
 * Where moto answers: AWS_ENDPOINT_URL, else the URL scripts/services.sh recorded, else its default port.
 * Fake credentials and us-east-1: moto accepts any.
 */

export const awsTestConnection = {
  endpoint: motoUrl(),
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};

/** A table name no other run uses. */
export function uniqueTableName(purpose: string): string {
  return `aat-${purpose}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A client that sends one request at a time. moto_server handles requests on threads without a lock
 * around DynamoDB's conditional writes, so two concurrent UpdateItems on one item can both pass their
 * condition (a lost update no real table allows: DynamoDB applies each conditional write atomically).
 * Serialising the requests makes moto atomic; the contract's concurrency tests then check the adapter's
 * conditions and versions, not moto's locking. See docs/testing.md.
 */
export function serialClient(): DynamoDBClient {
  return new DynamoDBClient({
    ...awsTestConnection,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
  });
}
