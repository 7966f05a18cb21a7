import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { z } from "zod";

/**
 * DEV/TEST ONLY: a small server speaking the subset of Upstash Redis's REST protocol that @upstash/redis
 * sends (POST / with one command, POST /pipeline, POST /multi-exec, bearer token, optional base64
 * responses), forwarding each command to a real Redis. It lets the Upstash adapter run its contract suite
 * and local development without an Upstash account. It is not a production gateway: no TLS, one token,
 * no rate limits, no ACLs beyond the token. Never expose it beyond loopback.
 */
export interface DevProxyOptions {
  /** The Redis behind the proxy (default redis://127.0.0.1:6379). */
  redisUrl?: string;
  /** The bearer token clients must send. */
  token: string;
  /** Interface to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port (default 0: a free one). */
  port?: number;
}

export interface RunningDevProxy {
  /** `http://host:port`: what to pass to @upstash/redis as url. */
  url: string;
  token: string;
  close(): Promise<void>;
}

const commandSchema = z
  .array(z.union([z.string(), z.number(), z.boolean()]))
  .min(1, 'a command is a JSON array with the command name first, e.g. ["GET","key"]');
const pipelineSchema = z.array(commandSchema).min(1, "a pipeline is a non-empty JSON array of commands");

type Command = z.output<typeof commandSchema>;
type Reply = { result: unknown } | { error: string };

/** Builds the Hono app (exported for tests that want to call it without a socket). */
export function devProxyApp(redis: Redis, token: string): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (c.req.header("authorization") !== `Bearer ${token}`) {
      return c.json(
        { error: "Unauthorized: send Authorization: Bearer <token> with the proxy's token" },
        401,
      );
    }
    await next();
  });
  app.post("/", async (c) => {
    const parsed = commandSchema.safeParse(await readJson(c.req.raw));
    if (!parsed.success) return c.json({ error: `bad command: ${z.prettifyError(parsed.error)}` }, 400);
    const reply = await runOne(redis, parsed.data);
    if ("error" in reply) return c.json(reply, 400);
    return c.json(encode(reply, base64(c.req.header("upstash-encoding"))));
  });
  for (const path of ["/pipeline", "/multi-exec"] as const) {
    app.post(path, async (c) => {
      const parsed = pipelineSchema.safeParse(await readJson(c.req.raw));
      if (!parsed.success) return c.json({ error: `bad pipeline: ${z.prettifyError(parsed.error)}` }, 400);
      const replies =
        path === "/pipeline"
          ? await runPipeline(redis, parsed.data)
          : await runTransaction(redis, parsed.data);
      if (!Array.isArray(replies)) return c.json(replies, 400);
      const b64 = base64(c.req.header("upstash-encoding"));
      return c.json(replies.map((reply) => encode(reply, b64)));
    });
  }
  app.notFound((c) => c.json({ error: `the dev proxy serves POST /, /pipeline and /multi-exec only` }, 404));
  return app;
}

/** Starts the proxy and its own Redis connection; `close` stops both. */
export async function startDevProxy(options: DevProxyOptions): Promise<RunningDevProxy> {
  if (typeof options.token !== "string" || options.token.length < 8) {
    throw new TypeError("startDevProxy: token must be a string of at least 8 characters");
  }
  const redis = new Redis(options.redisUrl ?? "redis://127.0.0.1:6379", { lazyConnect: true });
  await redis.connect();
  const app = devProxyApp(redis, options.token);
  const hostname = options.hostname ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname, port: options.port ?? 0 }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${hostname}:${port}`,
    token: options.token,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit();
    },
  };
}

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}

function base64(header: string | undefined): boolean {
  return header?.toLowerCase() === "base64";
}

function args(command: Command): [string, string[]] {
  const [name, ...rest] = command.map(String);
  return [name!, rest];
}

async function runOne(redis: Redis, command: Command): Promise<Reply> {
  const [name, rest] = args(command);
  try {
    return { result: await redis.call(name, ...rest) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function runPipeline(redis: Redis, commands: Command[]): Promise<Reply[]> {
  // Sent back to back on one connection, like Upstash's pipeline: not atomic, one reply each.
  return await Promise.all(commands.map((command) => runOne(redis, command)));
}

async function runTransaction(redis: Redis, commands: Command[]): Promise<Reply[] | { error: string }> {
  const multi = redis.multi();
  for (const command of commands) {
    const [name, rest] = args(command);
    multi.call(name, ...rest);
  }
  const results = await multi.exec().catch((error: Error) => error);
  if (results instanceof Error) return { error: results.message };
  if (results === null) return { error: "EXECABORT the transaction was aborted" };
  return results.map(([error, result]) => (error ? { error: error.message } : { result }));
}

/** With `Upstash-Encoding: base64`, every string in a result is base64 of its UTF-8 bytes, as Upstash does. */
function encode(reply: Reply, b64: boolean): Reply {
  if (!b64 || "error" in reply) return reply;
  return { result: encodeValue(reply.result) };
}

function encodeValue(value: unknown): unknown {
  if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
  if (Array.isArray(value)) return value.map(encodeValue);
  return value;
}
