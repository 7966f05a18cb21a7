import { awsCredentialsSchema } from "@aat/adapter-aws-json";
import type { KeyValue } from "@aat/core";
import { clockSchema, queueOptionFields } from "@aat/core/ports";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";

/** SQS allows 80 characters of letters, digits, dashes and underscores; the adapter appends "-dlq.fifo". */
const MAX_NAME_LENGTH = 80 - "-dlq.fifo".length;

export const queueNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "name must use only letters, digits, dashes and underscores (SQS queue names)")
  .max(MAX_NAME_LENGTH, `name must be at most ${MAX_NAME_LENGTH} characters (SQS's 80 minus "-dlq.fifo")`);

const kvSchema = z.custom<KeyValue>(
  (value) => typeof (value as KeyValue | undefined)?.setIfAbsent === "function",
  {
    message:
      "kv must implement the KeyValue port (for example DynamoKeyValue, RedisKeyValue or MemoryKeyValue)",
  },
);

const sqsClientSchema = z.custom<SQSClient>(
  (value) => typeof (value as SQSClient | undefined)?.send === "function",
  { message: "client must be an SQSClient from @aws-sdk/client-sqs (it selects the SDK transport)" },
);

const s3ClientSchema = z.custom<S3Client>(
  (value) => typeof (value as S3Client | undefined)?.send === "function",
  { message: "claimCheck.client must be an S3Client from @aws-sdk/client-s3" },
);

/** Where the adapter talks to AWS (or an emulator such as moto). */
export const awsConnectionFields = {
  /** AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION; the SDK transport also reads profiles). */
  region: z.string().min(1).optional(),
  /**
   * Endpoint override, e.g. http://127.0.0.1:5055 for moto (default: AWS_ENDPOINT_URL_SQS, else
   * AWS_ENDPOINT_URL, else the regional endpoint; the claim check's S3 client uses it too).
   */
  endpoint: z.string().url("endpoint must be a URL such as http://127.0.0.1:5055").optional(),
  /**
   * Static credentials (default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the
   * SDK's provider chain).
   */
  credentials: awsCredentialsSchema.optional(),
  /**
   * "rest": SQS's JSON protocol over HTTPS with SigV4 (@aat/adapter-aws-json), no AWS SDK loaded; needs
   * credentials and a region from the options or the environment. "sdk": the AWS SDK's SQSClient (its
   * provider chain: instance and container roles, SSO, profiles). "auto" (default): REST when no client
   * is passed and credentials and a region are known, else the SDK.
   */
  transport: z
    .enum(["auto", "sdk", "rest"], { message: 'transport must be "auto", "sdk" or "rest"' })
    .optional(),
};

export const claimCheckSchema = z
  .object({
    /** S3 bucket holding payloads too large for an SQS message. Give it a lifecycle rule that expires them. */
    bucket: z.string().min(3, "claimCheck.bucket must be an S3 bucket name"),
    /** Key prefix inside the bucket (default "aat-claims/<queue>/"). */
    prefix: z.string().optional(),
    /** Create the bucket on connect when it is missing (default false; tests and local use). */
    create: z.boolean().optional(),
    client: s3ClientSchema.optional(),
  })
  .strict();

export const connectOptionsSchema = z
  .object({
    name: queueNameSchema,
    /** A FIFO queue ("<name>.fifo"): broker dedupe for 5 minutes, order per orderingKey (default false). */
    fifo: z.boolean().optional(),
    ...queueOptionFields,
    ...awsConnectionFields,
    client: sqsClientSchema.optional(),
    /** Store for dedupe claims on standard queues; required to publish there with a dedupeId. */
    kv: kvSchema.optional(),
    /** Namespace of the dedupe claims in `kv` (default "sqs/<name>/dedupe/"). */
    dedupePrefix: z.string().min(1).optional(),
    /** Payloads over SQS's 256 KiB go to S3 and travel by reference; without it they are refused. */
    claimCheck: claimCheckSchema.optional(),
    clock: z.optional(clockSchema),
    /**
     * Create the queue and its dead-letter queue when missing (default true). False: a deployment owns
     * them; the queue is opened as it is (its visibility timeout, its redrive policy's dead-letter queue
     * and receive count) with one GetQueueAttributes, and the runtime needs no CreateQueue permission.
     */
    provision: z.boolean().optional(),
    /** With `provision: false`: the queue's URL, which saves the GetQueueUrl call (its name must match). */
    queueUrl: z.string().url("queueUrl must be the queue's URL").optional(),
  })
  .strict()
  .refine((options) => (options.maxDeliveries ?? 5) <= 1000, {
    message: "maxDeliveries must be at most 1000 (SQS's largest maxReceiveCount)",
    path: ["maxDeliveries"],
  })
  .refine(
    (options) => !options.fifo || options.dedupeWindowMs === undefined || options.dedupeWindowMs === 300_000,
    {
      message:
        "dedupeWindowMs cannot be changed on a FIFO queue: SQS's duplicate window is fixed at 5 minutes",
      path: ["dedupeWindowMs"],
    },
  );

export type SqsQueueOptions = z.input<typeof connectOptionsSchema>;

export const destroyOptionsSchema = z
  .object({
    name: queueNameSchema,
    fifo: z.boolean().optional(),
    ...awsConnectionFields,
    client: sqsClientSchema.optional(),
  })
  .strict();

export type SqsQueueDestroyOptions = z.input<typeof destroyOptionsSchema>;

/** Parses adapter options, turning a zod failure into one readable TypeError. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new TypeError(`${what} options are invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
