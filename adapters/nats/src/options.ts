import { clockSchema } from "@aat/core";
import { z } from "zod";

/** Stream and consumer names: one subject token, so they also fit in `$JS.API.*.<name>` subjects. */
const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
/** Literal subjects only: the adapter derives `<subject>.delayed` and `<subject>.dead-letters` from it. */
const SUBJECT_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const natsName = (what: string) =>
  z
    .string()
    .min(1, `${what} must be a non-empty string`)
    .max(200, `${what} must be at most 200 characters (the adapter appends suffixes to it)`)
    .regex(NAME_PATTERN, `${what} may contain only letters, digits, "-" and "_"`);

const positiveMs = (what: string, minimum = 1) =>
  z
    .number()
    .int(`${what} must be a whole number of milliseconds`)
    .min(minimum, `${what} must be at least ${minimum} ms`);

const tlsSchema = z.union([
  z.literal(true),
  z
    .object({
      /** PEM file of the CA that signed the server certificate (default: Node's trust store). */
      caFile: z.string().min(1).optional(),
      /** Client certificate and key for mutual TLS. */
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      /** TLS before the NATS INFO exchange; the server must be configured with `handshake_first`. */
      handshakeFirst: z.boolean().optional(),
    })
    .strict()
    .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
      message: "tls.certFile and tls.keyFile go together (mutual TLS needs both)",
    }),
]);

export const connectionOptionsSchema = z
  .object({
    /** `nats://host:port`, `tls://host:port` or `host:port`; several for a cluster. */
    servers: z.union([
      z.string().min(1, "servers must be a non-empty string"),
      z
        .array(z.string().min(1, "each server must be a non-empty string"))
        .min(1, "servers must not be empty"),
    ]),
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    token: z.string().min(1).optional(),
    /** A `.creds` file (JWT + nkey seed) as issued by `nsc` or Synadia Cloud. */
    credsFile: z.string().min(1).optional(),
    tls: tlsSchema.optional(),
    /** Shown by the server in connection listings (default `aat-<stream>`). */
    connectionName: z.string().min(1).optional(),
    /** How long the first connection attempt may take (default 5 000 ms). */
    connectTimeoutMs: positiveMs("connectTimeoutMs").optional(),
    /** Reconnect attempts after a lost connection; -1: forever (default -1, right for long-lived workers). */
    maxReconnectAttempts: z
      .number()
      .int()
      .min(-1, "maxReconnectAttempts must be -1 (forever) or more")
      .optional(),
    /** Timeout of JetStream API calls, publish acknowledgements and ack confirmations (default 5 000 ms). */
    requestTimeoutMs: positiveMs("requestTimeoutMs").optional(),
  })
  .strict();

const credentialsRule = {
  check: (options: { user?: string; pass?: string; token?: string; credsFile?: string }) => {
    const kinds = [options.user !== undefined, options.token !== undefined, options.credsFile !== undefined];
    return kinds.filter(Boolean).length <= 1;
  },
  message: "choose one way to authenticate: user/pass, token or credsFile",
};
const userPassRule = {
  check: (options: { user?: string; pass?: string }) =>
    (options.user === undefined) === (options.pass === undefined),
  message: "user and pass go together",
};

export const natsQueueOptionsSchema = connectionOptionsSchema
  .extend({
    /** JetStream stream holding the queue (work-queue retention); `<stream>_DLQ` holds its dead letters. */
    stream: natsName("stream"),
    /** Subject messages are published on (default: the stream name). */
    subject: z
      .string()
      .max(200, "subject must be at most 200 characters")
      .regex(
        SUBJECT_PATTERN,
        'subject must be dot-separated tokens of letters, digits, "-" and "_" (no wildcards)',
      )
      .optional(),
    /** Durable pull consumer shared by every process working this queue (default `workers`). */
    consumer: natsName("consumer").optional(),
    /** The consumer's ack wait: how long a received message stays leased (default 30 000 ms). */
    ackWaitMs: positiveMs("ackWaitMs", 100).optional(),
    /** The consumer's max_deliver: deliveries before the message is dead-lettered (default 5). */
    maxDeliver: z.number().int().min(1, "maxDeliver must be at least 1").optional(),
    /** The stream's duplicate window for `Nats-Msg-Id` (default 120 000 ms, the NATS default). */
    duplicateWindowMs: positiveMs("duplicateWindowMs", 100).optional(),
    /** Unacknowledged messages the consumer hands out at most (default 10 000; -1: unlimited). */
    maxAckPending: z
      .number()
      .int()
      .refine((value) => value === -1 || value >= 1, "maxAckPending must be -1 (unlimited) or at least 1")
      .optional(),
    /** Where the streams keep messages (default `file`). */
    storage: z.enum(["file", "memory"]).optional(),
    /** Stream replicas in a cluster (default 1). */
    replicas: z.number().int().min(1).max(5, "replicas must be between 1 and 5").optional(),
    clock: z.optional(clockSchema),
    /** Told about failures of the background work (delay mover, dead-lettering); default: console.warn. */
    onError: z
      .custom<(error: Error) => void>((value) => typeof value === "function", {
        message: "onError must be a function",
      })
      .optional(),
  })
  .strict()
  .refine(credentialsRule.check, credentialsRule.message)
  .refine(userPassRule.check, userPassRule.message);

export const natsConnectionOptionsSchema = connectionOptionsSchema
  .refine(credentialsRule.check, credentialsRule.message)
  .refine(userPassRule.check, userPassRule.message);

export type NatsConnectionOptions = z.input<typeof connectionOptionsSchema>;
export type NatsQueueOptions = z.input<typeof natsQueueOptionsSchema>;
export type ParsedConnectionOptions = z.output<typeof connectionOptionsSchema>;

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
