import { Agent } from "node:http";
import { type AwsJsonClient, AwsJsonRestClient } from "@aat/adapter-aws-json";
import { motoUrl } from "@aat/core/testing";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Transport } from "../src/index.js";

/**
 * Where moto answers: AWS_ENDPOINT_URL, else the URL scripts/services.sh recorded, else its default port.
 * Fake credentials and us-east-1: moto accepts any.
 */

export const awsTestConnection = {
  endpoint: motoUrl(),
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};

/** Both ways the adapter reaches DynamoDB: every suite runs on each. */
export const TRANSPORTS: readonly Transport[] = ["sdk", "rest"];

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

/** The REST transport's client, one call at a time (as `serialClient`, for the same reason). */
export function serialRestClient(): AwsJsonClient {
  const rest = new AwsJsonRestClient({ service: "dynamodb", ...awsTestConnection });
  let tail: Promise<unknown> = Promise.resolve();
  return {
    call<O>(operation: string, input: object): Promise<O> {
      const result = tail.then(() => rest.call<O>(operation, input));
      tail = result.catch(() => undefined);
      return result;
    },
    destroy() {},
  };
}

/**
 * A serialising client of the transport that records the operations sent (as the API names them), to
 * see which requests an adapter call made.
 */
export function recordingClientFor(transport: Transport): {
  client: DynamoDBClient | AwsJsonClient;
  operations: string[];
} {
  const operations: string[] = [];
  if (transport === "sdk") {
    const client = serialClient();
    client.middlewareStack.add(
      (next, context) => (args) => {
        operations.push(String(context.commandName).replace(/Command$/, ""));
        return next(args);
      },
      { step: "initialize" },
    );
    return { client, operations };
  }
  const inner = serialRestClient();
  return {
    client: {
      call<O>(operation: string, input: object): Promise<O> {
        operations.push(operation);
        return inner.call<O>(operation, input);
      },
      destroy: () => inner.destroy(),
    },
    operations,
  };
}

/** A serialising client of the transport (closed with `destroy`; the adapter does not close it). */
export function serialClientFor(transport: Transport): DynamoDBClient | AwsJsonClient {
  return transport === "sdk" ? serialClient() : serialRestClient();
}
