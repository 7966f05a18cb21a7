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

const clientSchema = z.custom<DynamoDBClient>(
  (value) => typeof (value as DynamoDBClient | undefined)?.send === "function",
  { message: "client must be a DynamoDBClient from @aws-sdk/client-dynamodb" },
);

/** Where the adapter talks to AWS (or an emulator such as moto). */
export const connectionFields = {
  /** AWS region (default: the SDK's own resolution, e.g. AWS_REGION). */
  region: z.string().min(1).optional(),
  /** Endpoint override, e.g. http://127.0.0.1:5055 for moto (default: the SDK's, e.g. AWS_ENDPOINT_URL). */
  endpoint: z.url("endpoint must be a URL such as http://127.0.0.1:5055").optional(),
  /** Static credentials (default: the SDK's provider chain, e.g. the Lambda role). */
  credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) }).optional(),
  /** A client to use instead of building one (the adapter then does not destroy it on close). */
  client: clientSchema.optional(),
};

export const optionsSchema = z
  .object({
    tableName: tableNameSchema,
    ...connectionFields,
    /** Create the table (on-demand billing, TTL on) when it is missing, on connect (default false). */
    createTable: z.boolean().optional(),
    defaultListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
    maxListLimit: z.number().int().positive().max(MAX_LIST_LIMIT).optional(),
    /** Time used to decide whether an item has expired (default Date.now). */
    clock: clockSchema.optional(),
  })
  .strict();

export type DynamoKeyValueOptions = z.input<typeof optionsSchema>;

export const tableOptionsSchema = z.object({ tableName: tableNameSchema, ...connectionFields }).strict();

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
