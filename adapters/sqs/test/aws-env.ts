import { motoUrl } from "@aat/core/testing";

/**
 * Where moto answers: AWS_ENDPOINT_URL, else the URL scripts/services.sh recorded, else its default port.
 * Fake credentials and us-east-1: moto accepts any.
 */

export const awsTestConnection = {
  endpoint: motoUrl(),
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};

/** Both ways the adapter speaks to SQS: every moto suite runs once per transport. */
export const TRANSPORTS = ["sdk", "rest"] as const;
