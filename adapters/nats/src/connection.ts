import { readFile } from "node:fs/promises";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import type { ParsedConnectionOptions } from "./options.js";

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface OpenedConnection {
  connection: NatsConnection;
  manager: JetStreamManager;
  /** The servers as configured, credentials masked, for error messages. */
  description: string;
}

/** Server list for messages: `nats://user:secret@host` becomes `nats://user:***@host`. */
export function describeServers(servers: string | string[]): string {
  const list = Array.isArray(servers) ? servers : [servers];
  return list.map((server) => server.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")).join(", ");
}

export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
}

/**
 * Connects and checks that JetStream answers, failing with a message that names the servers and says what
 * to check. The connection reconnects on its own afterwards (`maxReconnectAttempts`, default forever).
 */
export async function openConnection(
  options: ParsedConnectionOptions,
  defaultName: string,
  who: string,
): Promise<OpenedConnection> {
  const description = describeServers(options.servers);
  const connectOptions: NodeConnectionOptions = {
    servers: options.servers,
    name: options.connectionName ?? defaultName,
    timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    // Without this the client builds two Error objects (stack traces included) per request, a JetStream
    // publish included, only to enrich a rare failure: a twelfth of the webhook route's CPU. The adapter
    // names the operation in every error it raises instead.
    noAsyncTraces: true,
    ...(options.user !== undefined ? { user: options.user, pass: options.pass } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.credsFile !== undefined ? { authenticator: await readCreds(options.credsFile, who) } : {}),
    ...(options.tls === true ? { tls: {} } : options.tls !== undefined ? { tls: options.tls } : {}),
  };
  let connection: NatsConnection;
  try {
    connection = await connect(connectOptions);
  } catch (error) {
    throw new Error(
      `${who} cannot connect to NATS at ${description}: ${messageOf(error)}. ` +
        "Check that nats-server runs there (with JetStream: -js) and that the servers, credentials and TLS settings are right.",
      { cause: error },
    );
  }
  try {
    const manager = await jetstreamManager(connection, {
      timeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    });
    return { connection, manager, description };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw new Error(
      `${who}: NATS at ${description} answered but JetStream did not: ${messageOf(error)}. ` +
        "Start nats-server with JetStream enabled (-js, or `jetstream {}` in its configuration) and check that this account may use it.",
      { cause: error },
    );
  }
}

async function readCreds(file: string, who: string): Promise<Authenticator> {
  let content: Uint8Array;
  try {
    content = await readFile(file);
  } catch (error) {
    throw new Error(`${who}: cannot read credsFile ${file}: ${messageOf(error)}`, { cause: error });
  }
  return credsAuthenticator(content);
}
