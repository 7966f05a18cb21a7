import { hostname } from "node:os";
import { type Clock, clockSchema, type Lease, type Lock, systemClock } from "@aat/core/ports";
import { z } from "zod";
import { RedisConnection } from "./connection.js";
import { checkConnectionChoice, connectionFields } from "./connection-options.js";
import { LuaScript } from "./lua-script.js";
import { DEFAULT_KEY_PREFIX, keyPrefixSchema, Namespace } from "./namespace.js";
import { isWellFormed, parseOptions, ttlArgument } from "./options.js";

/**
 * KEYS = [lease, fence]; ARGV = [holder, ttl]. Takes the lease with SET NX PX, its value `<token>|<holder>`
 * with the token one above the fence counter, which only then moves: a failed attempt uses up no token.
 * The fence counter never expires, so tokens keep rising across expiry and release.
 */
const ACQUIRE = `
local token = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
if not redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
redis.call('SET', KEYS[2], token)
return token
`;

/** KEYS = [lease]; ARGV = [`<token>|<holder>`, ttl]. Extends only the lease we still hold. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** KEYS = [lease]; ARGV = [`<token>|<holder>`]. Deletes only the lease we still hold. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

const optionsSchema = z
  .object({
    ...connectionFields,
    /** Namespace and Redis Cluster hash tag; may be the same as a RedisKeyValue's (default "aat"). */
    keyPrefix: keyPrefixSchema,
    /** Computes `expiresAt` (default: the system clock). The lease itself ends on the server's clock. */
    clock: clockSchema,
    /** Holder name when acquire gives none (default `<hostname>:<pid>`). */
    holder: z.string().min(1),
  })
  .partial()
  .strict()
  .superRefine(checkConnectionChoice);

export type RedisLockOptions = z.input<typeof optionsSchema>;

const leaseSchema = z.object({
  key: z.string().min(1),
  token: z.number().int().positive(),
  expiresAt: z.number(),
  holder: z.string(),
});

const tokenReply = z.number().int().positive().nullable();
const flagReply = z.union([z.literal(0), z.literal(1)]);

/**
 * The Lock port on Redis: a lease is the key `{prefix}:lease:<key>` set with NX and PX, holding the
 * fencing token and the holder; renew and release compare that value in Lua, so only the current holder
 * can extend or end it. `expiresAt` is the local clock before the request plus the TTL: the server's
 * expiry starts later, so a holder that stops by `expiresAt` never overlaps the next one (barring clocks
 * that drift apart by more than the margin you leave).
 */
export class RedisLock implements Lock {
  readonly keyPrefix: string;
  private readonly connection: RedisConnection;
  private readonly namespace: Namespace;
  private readonly clock: Clock;
  private readonly defaultHolder: string;
  private readonly scripts = {
    acquire: new LuaScript("lock.acquire", ACQUIRE, 2),
    renew: new LuaScript("lock.renew", RENEW, 1),
    release: new LuaScript("lock.release", RELEASE, 1),
  };

  constructor(options: RedisLockOptions) {
    const parsed = parseOptions(optionsSchema, options, "RedisLock");
    this.connection = new RedisConnection(parsed, "RedisLock");
    this.keyPrefix = parsed.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.namespace = new Namespace(this.keyPrefix);
    this.clock = parsed.clock ?? systemClock;
    this.defaultHolder = parsed.holder ?? `${hostname()}:${process.pid}`;
  }

  /** Creates the lock and pings the server, failing clearly on a wrong URL, password or TLS setting. */
  static async connect(options: RedisLockOptions): Promise<RedisLock> {
    const lock = new RedisLock(options);
    await lock.connection.verify();
    return lock;
  }

  get server(): string {
    return this.connection.description;
  }

  async acquire(key: string, options: { ttlMs: number; holder?: string }): Promise<Lease | undefined> {
    this.checkKey(key, "acquire");
    const ttl = ttlArgument(options?.ttlMs, `RedisLock.acquire("${key}")`);
    if (ttl === "") throw new TypeError(`RedisLock.acquire("${key}"): ttlMs is required`);
    const holder = options.holder ?? this.defaultHolder;
    if (typeof holder !== "string" || holder.length === 0) {
      throw new TypeError(`RedisLock.acquire("${key}"): holder must be a non-empty string`);
    }
    const startedAt = this.clock.now();
    const token = tokenReply.parse(
      await this.command("acquire", () =>
        this.scripts.acquire.run(this.connection.client, [
          this.namespace.lease(key),
          this.namespace.fence(key),
          holder,
          ttl,
        ]),
      ),
    );
    if (token === null) return undefined;
    return { key, token, expiresAt: startedAt + Number(ttl), holder };
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    const held = this.checkLease(lease, "renew");
    const ttl = ttlArgument(ttlMs, `RedisLock.renew("${held.key}")`);
    if (ttl === "") throw new TypeError(`RedisLock.renew("${held.key}"): ttlMs is required`);
    const startedAt = this.clock.now();
    const renewed = flagReply.parse(
      await this.command("renew", () =>
        this.scripts.renew.run(this.connection.client, [
          this.namespace.lease(held.key),
          leaseValue(held),
          ttl,
        ]),
      ),
    );
    return renewed === 1 ? { ...held, expiresAt: startedAt + Number(ttl) } : undefined;
  }

  async release(lease: Lease): Promise<boolean> {
    const held = this.checkLease(lease, "release");
    const released = flagReply.parse(
      await this.command("release", () =>
        this.scripts.release.run(this.connection.client, [this.namespace.lease(held.key), leaseValue(held)]),
      ),
    );
    return released === 1;
  }

  /** Closes the client if this lock opened it; a client passed as `client` stays open. */
  async close(): Promise<void> {
    await this.connection.close();
  }

  private async command<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.connection.failure(operation, error);
    }
  }

  private checkKey(key: string, operation: string): void {
    this.connection.assertOpen();
    if (typeof key !== "string" || key.length === 0 || !isWellFormed(key)) {
      throw new TypeError(
        `RedisLock.${operation}: key must be a non-empty string without lone surrogates, got ${JSON.stringify(key)}`,
      );
    }
  }

  private checkLease(lease: Lease, operation: string): Lease {
    this.connection.assertOpen();
    const parsed = leaseSchema.safeParse(lease);
    if (!parsed.success) {
      throw new TypeError(
        `RedisLock.${operation}: pass the lease acquire returned; this one is invalid: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }
}

function leaseValue(lease: Lease): string {
  return `${lease.token}|${lease.holder}`;
}
