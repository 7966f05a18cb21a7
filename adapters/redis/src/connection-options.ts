import type { Cluster, Redis, RedisOptions } from "ioredis";
import { z } from "zod";

/** A standalone or cluster ioredis client: both route every command of one namespace to one node. */
export type RedisClient = Redis | Cluster;

const pem = z.union([z.string(), z.instanceof(Buffer)]);

/** The subset of node:tls options that matter for Redis; everything else keeps Node's defaults. */
const tlsOptionsSchema = z
  .object({
    /** Certificate authorities to trust instead of Node's bundled list (self-signed or private CA). */
    ca: z.union([pem, z.array(pem)]),
    /** Client certificate and key, for servers with `tls-auth-clients yes`. */
    cert: pem,
    key: pem,
    /** Name checked against the server certificate (default: the URL's host). */
    servername: z.string().min(1),
    /** false accepts any certificate: for throwaway test servers only. */
    rejectUnauthorized: z.boolean(),
  })
  .partial()
  .strict();

export type RedisTlsOptions = z.input<typeof tlsOptionsSchema>;

const clientSchema = z.custom<RedisClient>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as { evalsha?: unknown }).evalsha === "function" &&
    typeof (value as { status?: unknown }).status === "string",
  { message: "client must be an ioredis Redis or Cluster instance" },
);

/** Options shared by every Redis adapter for reaching the server. */
export const connectionFields = {
  /** `redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS. */
  url: z.string().min(1),
  /** An ioredis client you own and close; the adapter borrows it and never closes it. */
  client: clientSchema,
  /** ACL user name (Redis 6+); overrides the one in the URL. */
  username: z.string().min(1),
  /** Password (of `username`, or of the default user); overrides the one in the URL. */
  password: z.string().min(1),
  /** TLS: true, or node:tls options; implied by `rediss://`. */
  tls: z.union([z.boolean(), tlsOptionsSchema]),
  /** Database number (standalone only; default 0, or the URL's `/db`). */
  db: z.number().int().nonnegative(),
  /** How long one connection attempt may take (default 5 000 ms). */
  connectTimeoutMs: z.number().int().positive(),
  /**
   * How often a command is retried across reconnects before it fails (default 3, about a third of a
   * second of reconnecting; 0 fails at once while disconnected). ioredis's own default (20) let commands
   * hang for over a minute during an outage, so health checks and workers could not react.
   */
  maxRetriesPerRequest: z.number().int().nonnegative(),
  /** How long one command may wait for its reply, e.g. on a connection that went silent (default 5 000 ms). */
  commandTimeoutMs: z.number().int().positive(),
  /**
   * ioredis automatic pipelining: commands issued in one event-loop turn share a socket write (default
   * off). It pays when a process issues many commands at once; it costs about 20 µs of client CPU per
   * command otherwise (see docs/decisions.md).
   */
  autoPipelining: z.boolean(),
};

const URL_ONLY_OPTIONS = [
  "username",
  "password",
  "tls",
  "db",
  "connectTimeoutMs",
  "maxRetriesPerRequest",
  "commandTimeoutMs",
  "autoPipelining",
];

/** Defaults that let a Redis outage surface within seconds (see docs/ports.md, Redis adapter). */
export const REDIS_TIMEOUT_DEFAULTS = {
  connectTimeoutMs: 5_000,
  maxRetriesPerRequest: 3,
  commandTimeoutMs: 5_000,
} as const;

export interface ConnectionInput {
  url?: string | undefined;
  client?: RedisClient | undefined;
  username?: string | undefined;
  password?: string | undefined;
  tls?: boolean | RedisTlsOptions | undefined;
  db?: number | undefined;
  connectTimeoutMs?: number | undefined;
  maxRetriesPerRequest?: number | undefined;
  commandTimeoutMs?: number | undefined;
  autoPipelining?: boolean | undefined;
}

/** Adds the cross-field rules (exactly one of url and client) to an options schema's issues. */
export function checkConnectionChoice(input: ConnectionInput, context: z.RefinementCtx): void {
  if (input.url === undefined && input.client === undefined) {
    context.addIssue({
      code: "custom",
      message: "give either url (redis://host:6379 or rediss://…) or client (an ioredis instance)",
      path: ["url"],
    });
  }
  if (input.url !== undefined && input.client !== undefined) {
    context.addIssue({ code: "custom", message: "give url or client, not both", path: ["client"] });
  }
  if (input.client !== undefined) {
    for (const name of URL_ONLY_OPTIONS) {
      if (input[name as keyof ConnectionInput] !== undefined) {
        context.addIssue({
          code: "custom",
          message: `${name} configures a connection the adapter opens; set it on the client you pass instead`,
          path: [name],
        });
      }
    }
  }
}

export interface RedisEndpoint {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

/**
 * Reads a redis:// or rediss:// URL. Errors never repeat the URL, since it may carry a password.
 * Query strings are refused rather than half-supported: every setting has a named option.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      "url is not a valid URL; expected redis://[user[:password]@]host[:port][/db] or rediss://… for TLS " +
        "(percent-encode special characters in the password)",
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(
      `url has the scheme ${JSON.stringify(parsed.protocol)}; use redis:// (plain) or rediss:// (TLS)`,
    );
  }
  if (parsed.hostname === "") throw new TypeError("url has no host; expected redis://host:6379");
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new TypeError(
      "url has a query string or fragment; pass settings as options (db, tls, username, password, …) instead",
    );
  }
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d+$/.test(path)) {
    throw new TypeError(`url path ${JSON.stringify(parsed.pathname)} is not a database number like /0`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: path === "" ? 0 : Number(path),
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    tls: parsed.protocol === "rediss:",
  };
}

/** The endpoint as a URL with the password masked: safe for logs and error messages. */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  const user = endpoint.username === undefined ? "" : encodeURIComponent(endpoint.username);
  const credentials = endpoint.password === undefined ? (user ? `${user}@` : "") : `${user}:***@`;
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const db = endpoint.db === 0 ? "" : `/${endpoint.db}`;
  return `${endpoint.tls ? "rediss" : "redis"}://${credentials}${host}:${endpoint.port}${db}`;
}

/** Merges the URL with the explicit options (explicit ones win) into ioredis options. */
export function resolveEndpoint(input: ConnectionInput & { url: string }): {
  endpoint: RedisEndpoint;
  clientOptions: RedisOptions;
} {
  const fromUrl = parseRedisUrl(input.url);
  if (input.tls === false && fromUrl.tls) {
    throw new TypeError("tls: false contradicts the rediss:// url; use redis:// for a plain connection");
  }
  const tls = input.tls === undefined ? fromUrl.tls : input.tls !== false;
  const endpoint: RedisEndpoint = {
    host: fromUrl.host,
    port: fromUrl.port,
    db: input.db ?? fromUrl.db,
    username: input.username ?? fromUrl.username,
    password: input.password ?? fromUrl.password,
    tls,
  };
  const clientOptions: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    // The adapter connects on first use or in connect(), where a failure gets a clear message.
    lazyConnect: true,
    connectTimeout: input.connectTimeoutMs ?? REDIS_TIMEOUT_DEFAULTS.connectTimeoutMs,
    maxRetriesPerRequest: input.maxRetriesPerRequest ?? REDIS_TIMEOUT_DEFAULTS.maxRetriesPerRequest,
    commandTimeout: input.commandTimeoutMs ?? REDIS_TIMEOUT_DEFAULTS.commandTimeoutMs,
    // Off by default: a new run is one script now, and sequential callers (dedupe) paid ~20 µs of CPU per
    // command for it. When on, every key shares the namespace's hash tag, so a pipeline never spans slots.
    enableAutoPipelining: input.autoPipelining ?? false,
  };
  if (endpoint.username !== undefined) clientOptions.username = endpoint.username;
  if (endpoint.password !== undefined) clientOptions.password = endpoint.password;
  if (tls) clientOptions.tls = typeof input.tls === "object" ? { ...input.tls } : {};
  return { endpoint, clientOptions };
}
