import { readFileSync } from "node:fs";

/**
 * Where moto answers: AWS_ENDPOINT_URL, else the URL scripts/services.sh recorded, else its default port.
 * Fake credentials and us-east-1: moto accepts any.
 */
function motoUrl(): string {
  if (process.env.AWS_ENDPOINT_URL) return process.env.AWS_ENDPOINT_URL;
  try {
    return readFileSync(process.env.AAT_MOTO_URL_FILE ?? "/tmp/aat-moto.url", "utf8").trim();
  } catch {
    return "http://127.0.0.1:5055";
  }
}

export const awsTestConnection = {
  endpoint: motoUrl(),
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};
