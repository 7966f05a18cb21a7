import type { KeyValue } from "@aat/core";
import { clockSchema, queueOptionFields } from "@aat/core";
import { z } from "zod";

/** RabbitMQ refuses names longer than 255 bytes; the adapter appends at most ".delay.31". */
const MAX_NAME_BYTES = 255 - ".delay.31".length;
/** Delay levels are powers of two milliseconds; 32 levels reach 2^32 - 1 ms (about 49.7 days) in one pass. */
export const MAX_DELAY_LEVELS = 32;

const urlSchema = z.string().refine((value) => {
  try {
    const protocol = new URL(value).protocol;
    return protocol === "amqp:" || protocol === "amqps:";
  } catch {
    return false;
  }
}, "url must be an amqp:// or amqps:// URL, for example amqp://guest:guest@127.0.0.1:5672");

export const queueNameSchema = z
  .string()
  .min(1, "name must be a non-empty string")
  .refine((name) => !name.startsWith("amq."), 'name must not start with "amq." (reserved by RabbitMQ)')
  .refine(
    (name) => Buffer.byteLength(name) <= MAX_NAME_BYTES,
    `name must be at most ${MAX_NAME_BYTES} bytes (RabbitMQ's limit minus the adapter's suffixes)`,
  );

const kvSchema = z.custom<KeyValue>(
  (value) => typeof (value as KeyValue | undefined)?.setIfAbsent === "function",
  { message: "kv must implement the KeyValue port (for example MemoryKeyValue or RedisKeyValue)" },
);

export const connectOptionsSchema = z
  .object({
    url: urlSchema,
    name: queueNameSchema,
    ...queueOptionFields,
    /** Store for dedupe claims; required to publish with a dedupeId. */
    kv: kvSchema.optional(),
    /** Namespace of the dedupe claims in `kv` (default "rabbitmq/<name>/dedupe/"). */
    dedupePrefix: z.string().min(1).optional(),
    /** How often a waiting receive asks the broker again (default 50 ms). */
    pollIntervalMs: z.number().int().positive().optional(),
    /** Delay queues (powers of two ms); a longer delay goes round again (default 32). */
    delayLevels: z.number().int().min(1).max(MAX_DELAY_LEVELS).optional(),
    /** TCP connect timeout (default 10 s). */
    connectTimeoutMs: z.number().int().positive().optional(),
    clock: z.optional(clockSchema),
  })
  .strict();

export type RabbitQueueOptions = z.input<typeof connectOptionsSchema>;

export const destroyOptionsSchema = z
  .object({
    url: urlSchema,
    name: queueNameSchema,
    delayLevels: z.number().int().min(1).max(MAX_DELAY_LEVELS).optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();

export type RabbitQueueDestroyOptions = z.input<typeof destroyOptionsSchema>;

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

/** The URL with its password removed, safe for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
