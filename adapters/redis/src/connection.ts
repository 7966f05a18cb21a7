import { Redis } from "ioredis";
import {
  type ConnectionInput,
  describeEndpoint,
  type RedisClient,
  resolveEndpoint,
} from "./connection-options.js";

/**
 * One adapter's hold on a Redis client: either opened from a URL (and closed by the adapter) or borrowed
 * from the caller (never closed here). Keeps a password-free description of the server for messages.
 */
export class RedisConnection {
  readonly client: RedisClient;
  /** `redis://user:***@host:port/db`, or a note that the client was passed in. */
  readonly description: string;
  private readonly owned: boolean;
  private lastError: Error | undefined;
  private closed = false;

  constructor(
    input: ConnectionInput,
    private readonly adapterName: string,
  ) {
    if (input.client !== undefined) {
      this.client = input.client;
      this.owned = false;
      this.description = describeClient(input.client);
      return;
    }
    const { endpoint, clientOptions } = resolveEndpoint({ ...input, url: input.url! });
    this.description = describeEndpoint(endpoint);
    this.owned = true;
    const client = new Redis(clientOptions);
    // Without a listener ioredis prints every reconnect failure; keep the last one for our own messages.
    client.on("error", (error: Error) => {
      this.lastError = error;
    });
    this.client = client;
  }

  /** Connects (when the adapter owns the client) and pings, failing with a message naming the server. */
  async verify(): Promise<void> {
    try {
      if (this.owned && this.client.status === "wait") await this.client.connect();
      await this.client.ping();
    } catch (error) {
      if (this.owned) this.client.disconnect();
      this.closed = this.owned;
      // ioredis rejects with a bare "Connection is closed."; the socket's own error says why.
      const reason = (this.lastError ? this.lastError.message : messageOf(error)).replace(/\.$/, "");
      throw new Error(
        `${this.adapterName} cannot reach Redis at ${this.description}: ${reason}. ` +
          "Check that the server runs and that the url, TLS settings, username and password are right.",
        { cause: error },
      );
    }
  }

  assertOpen(): void {
    if (this.closed) throw new Error(`${this.adapterName} is closed; create a new one`);
  }

  /** Wraps a failed command with the operation, the server and the last connection error. */
  failure(operation: string, error: unknown): Error {
    if (error instanceof TypeError) return error;
    const connectionNote =
      this.lastError && this.lastError.message !== messageOf(error)
        ? ` (last connection error: ${this.lastError.message})`
        : "";
    return new Error(
      `${this.adapterName}.${operation} failed on ${this.description}: ${messageOf(error)}${connectionNote}`,
      { cause: error },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    if (this.client.status === "ready") {
      try {
        await this.client.quit();
        return;
      } catch {
        // The server went away while quitting: dropping the socket below is all that is left to do.
      }
    }
    this.client.disconnect();
  }
}

function describeClient(client: RedisClient): string {
  if (client.isCluster) return "the Redis Cluster client passed as `client`";
  const options = (client as Redis).options;
  const endpoint = {
    host: options.host ?? "localhost",
    port: options.port ?? 6379,
    db: options.db ?? 0,
    // ioredis keeps unset credentials as null.
    username: options.username || undefined,
    password: options.password || undefined,
    tls: options.tls !== undefined,
  };
  return `${describeEndpoint(endpoint)} (client passed as \`client\`)`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
