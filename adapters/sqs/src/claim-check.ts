import { randomUUID } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

/** Re-exported so SqsQueue.connect loads the S3 SDK with this module, only for a queue with a claim check. */
export { S3Client };

/**
 * Claim check for payloads over SQS's 256 KiB: the body is stored as an S3 object and the message carries
 * only its bucket and key. Objects are not deleted on ack (a duplicate delivery of a standard queue may still
 * need them); expire them with a bucket lifecycle rule longer than the queue's retention.
 */
export class ClaimCheckStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  async put(body: string): Promise<{ b: string; k: string }> {
    const key = `${this.prefix}${randomUUID()}.json`;
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/json" }),
    );
    return { b: this.bucket, k: key };
  }

  async get(claim: { b: string; k: string }): Promise<string> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: claim.b, Key: claim.k }));
    if (!object.Body) throw new Error(`claim check s3://${claim.b}/${claim.k} has no body`);
    return object.Body.transformToString("utf8");
  }
}
