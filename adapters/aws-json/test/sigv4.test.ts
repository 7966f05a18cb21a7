import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { AwsJsonRestClient, type HttpSend } from "../src/index.js";

/**
 * moto does not check signatures, so this proves the REST client's SigV4 (aws4) the other way: the AWS
 * SDK's own signer (@smithy/signature-v4), given the same request and time, must compute the same
 * Authorization header.
 */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined ? undefined : typeof secret === "string" ? secret : toBuffer(secret);
    this.hash = key === undefined ? createHash("sha256") : createHmac("sha256", key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** The request the client sends, captured instead of sent. */
async function captured(options: {
  service: "dynamodb" | "sqs";
  endpoint?: string;
  sessionToken?: string;
}): Promise<{ url: URL; headers: Record<string, string>; body: string }> {
  let request: Parameters<HttpSend>[0] | undefined;
  const client = new AwsJsonRestClient({
    service: options.service,
    region: "eu-west-1",
    credentials: {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    send: async (sent) => {
      request = sent;
      return { status: 200, headers: {}, body: "{}" };
    },
  });
  await client.call("GetItem", { TableName: "t", Key: { pk: { S: "a/ü" } } });
  if (!request) throw new Error("nothing was sent");
  return request;
}

async function sdkAuthorization(
  request: { url: URL; headers: Record<string, string>; body: string },
  service: string,
  sessionToken?: string,
): Promise<string> {
  const { authorization: _ours, Authorization: _Ours, ...headers } = request.headers;
  const amzDate = headers["X-Amz-Date"] ?? headers["x-amz-date"];
  if (!amzDate) throw new Error("no X-Amz-Date header");
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    service,
    region: "eu-west-1",
    credentials: {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      ...(sessionToken ? { sessionToken } : {}),
    },
    sha256: Sha256,
    // aws4 sends no x-amz-content-sha256 (optional outside S3): compare like with like.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port ? { port: Number(request.url.port) } : {}),
      path: request.url.pathname,
      query: {},
      headers,
      body: request.body,
    },
    { signingDate },
  );
  return String(signed.headers.authorization ?? signed.headers.Authorization);
}

describe("the REST client's SigV4 signature", () => {
  it("is what the AWS SDK's signer computes (DynamoDB, regional endpoint, session token)", async () => {
    const request = await captured({ service: "dynamodb", sessionToken: "FQoGZXIvYXdzEXAMPLE" });
    const ours = request.headers.Authorization ?? request.headers.authorization;
    expect(ours).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(ours).toBe(await sdkAuthorization(request, "dynamodb", "FQoGZXIvYXdzEXAMPLE"));
  });

  it("is what the AWS SDK's signer computes (SQS, an endpoint with a port, no session token)", async () => {
    const request = await captured({ service: "sqs", endpoint: "http://127.0.0.1:5055" });
    expect(request.headers.Authorization ?? request.headers.authorization).toBe(
      await sdkAuthorization(request, "sqs"),
    );
  });
});
