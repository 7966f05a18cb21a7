import type { AwsJsonClient } from "@aat/adapter-aws-json";
import { awsCredentialsSchema } from "@aat/adapter-aws-json";
import { clockSchema } from "@aat/core/ports";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { z } from "zod";

/** The largest page `list` returns (DynamoDB reads at most 1 MB per Query page anyway). */
export const MAX_LIST_LIMIT = 1000;

/** DynamoDB table names: 3–255 letters, digits, underscores, dashes and dots. */
export const tableNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]{3,255}$/,
    "tableName must be 3-255 letters, digits, underscores, dashes or dots (DynamoDB table names)",
  );

const sdkClientSchema = z.custom<DynamoDBClient>(
  (value) => typeof (value as DynamoDBClient | undefined)?.send === "function",
  { message: "client must be a DynamoDBClient from @aws-sdk/client-dynamodb" },
);

const anyClientSchema = z.custom<DynamoDBClient | AwsJsonClient>(
  (value) =>
    typeof (value as DynamoDBClient | undefined)?.send === "function" ||
    typeof (value as AwsJsonClient | undefined)?.call === "function",
  {
    message:
      "client must be a DynamoDBClient from @aws-sdk/client-dynamodb or an AwsJsonClient from @aat/adapter-aws-json",
  },
);

/** Where the adapter talks to AWS (or an emulator such as moto). */
export const connectionFields = {
  /** AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the SDK's own resolution). */
  region: z.string().min(1).optional(),
  /**
   * Endpoint override, e.g. http://127.0.0.1:5055 for moto (default: AWS_ENDPOINT_URL_DYNAMODB,
   * AWS_ENDPOINT_URL, else the region's).
   */
  endpoint: z.url("endpoint must be a URL such as http://127.0.0.1:5055").optional(),
  /**
   * Static credentials (default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as on
   * Lambda, else the SDK's provider chain).
   */
  credentials: awsCredentialsSchema.optional(),
};

export const optionsSchema = z
  .object({
    tableName: tableNameSchema,
    ...connectionFields,
    /**
     * A client to use instead of building one, never destroyed by the adapter: an SDK DynamoDBClient
     * (the SDK transport) or an AwsJsonClient such as AwsJsonRestClient (the REST transport).
     */
    client: anyClientSchema.optional(),
    /**
     * How to reach DynamoDB (docs/adapters.md, "DynamoDB"): "rest" speaks its JSON API over HTTPS with
     * SigV4 and never loads the AWS SDK (a cold start saves its ~50 ms); "sdk" uses the SDK's client and
     * its credential provider chain; "auto" (default) is REST when credentials and a region are known
     * (options or environment, as on Lambda), else the SDK.
     */
    transport: z.enum(["auto", "sdk", "rest"]).optional(),
    /** Create the table (on-demand billing, TTL on) when it is missing, on connect (default false). */
    createTable: z.boolean().optional(),
    defaultListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
    maxListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
    /** Time used to decide whether an item has expired (default Date.now). */
    clock: z.optional(clockSchema),
  })
  .strict();

export type DynamoKeyValueOptions = z.input<typeof optionsSchema>;

export const tableOptionsSchema = z
  .object({
    tableName: tableNameSchema,
    ...connectionFields,
    /** An SDK client to use instead of building one (not destroyed here). */
    client: sdkClientSchema.optional(),
  })
  .strict();

export type DynamoTableOptions = z.input<typeof tableOptionsSchema>;

export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new TypeError(`${what} options are invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
