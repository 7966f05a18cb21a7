import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool as McpToolDescriptor,
} from "@modelcontextprotocol/sdk/types.js";
import type { McpServerConfig } from "../../config/mcp.js";
import type { Secrets } from "../../secrets/secrets.js";
import { silentLogger } from "../context.js";
import { ToolError } from "../errors.js";
import type { ToolLogger } from "../types.js";
import { McpConnectError } from "./errors.js";
import { redactSecrets, resolveSecretReferences } from "./secret-references.js";

export type { McpToolDescriptor };

export interface McpConnectionOptions {
  /** The server's name in `mcp.servers`. */
  name: string;
  server: McpServerConfig;
  /** Resolves `{{secret:NAME}}` in env and header values. */
  secrets?: Secrets;
  logger?: ToolLogger;
  /** How aat introduces itself to the server. */
  clientInfo?: { name: string; version: string };
}

export interface McpCallOptions {
  signal: AbortSignal;
}

/** Characters of the server's stderr kept for error messages. */
const STDERR_TAIL_CHARS = 2000;

/** What one live connection holds; a new one is made on every (re)connect. */
interface Live {
  client: Client;
  transport: Transport;
  /** Set when the transport closed without us closing it. */
  lost: boolean;
  secretValues: string[];
  /** The end of the child's stderr (stdio), for error messages. */
  stderr: { tail: string };
}

/**
 * One configured MCP server: connects on first use, reconnects after the transport fails (a crashed
 * child process, a dropped HTTP session) and turns protocol failures into ToolErrors that name the
 * server and say whether retrying can help. A call that was in flight when the transport failed is
 * never repeated here: the server may have acted on it, so the step's retry policy decides.
 */
export class McpConnection {
  readonly name: string;
  readonly settings: McpServerConfig;
  private readonly logger: ToolLogger;
  private live: Live | undefined;
  private connecting: Promise<Live> | undefined;
  private shutDown = false;

  constructor(private readonly options: McpConnectionOptions) {
    this.name = options.name;
    this.settings = options.server;
    const logger = options.logger ?? silentLogger;
    this.logger = logger.child ? logger.child({ mcpServer: options.name }) : logger;
  }

  /** The command line or URL, for messages (the URL without credentials or query). */
  describe(): string {
    if (this.settings.transport === "streamable-http") {
      const url = new URL(this.settings.url!);
      return `url ${url.origin}${url.pathname}`;
    }
    return `command ${[this.settings.command!, ...this.settings.args].map(quoteArg).join(" ")}`;
  }

  /** The child process id while a stdio server is connected (for operators' logs and tests). */
  get processId(): number | undefined {
    const transport = this.live?.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  /** Every tool the server lists (all pages). Connects first when needed. */
  async listTools(): Promise<McpToolDescriptor[]> {
    const live = await this.ensure();
    const tools: McpToolDescriptor[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await live.client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: this.settings.startTimeoutMs,
        });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      throw this.connectError(`could not list the tools of MCP server "${this.name}"`, error, live);
    }
    return tools;
  }

  /** Calls a tool by its MCP name. Throws ToolError for every failure; `isError` results are returned. */
  async callTool(
    tool: string,
    args: Record<string, unknown>,
    options: McpCallOptions,
  ): Promise<CallToolResult> {
    let live: Live;
    try {
      live = await this.ensure();
    } catch (error) {
      throw new ToolError(error instanceof Error ? error.message : String(error), {
        code: "mcp_unavailable",
        retryable: true,
      });
    }
    try {
      const result = await live.client.callTool({ name: tool, arguments: args }, undefined, {
        signal: options.signal,
        timeout: this.settings.timeoutMs,
      });
      return result as CallToolResult;
    } catch (error) {
      throw await this.callFailure(tool, error, live);
    }
  }

  /** Disconnects (stopping a stdio child); later calls fail instead of reconnecting. Idempotent. */
  async close(): Promise<void> {
    this.shutDown = true;
    const live = this.live ?? (await this.connecting?.catch(() => undefined));
    this.live = undefined;
    if (live) await live.client.close().catch(() => undefined);
  }

  private ensure(): Promise<Live> {
    if (this.shutDown) {
      return Promise.reject(
        new McpConnectError(this.name, `MCP server "${this.name}" is closed (aat is shutting down)`),
      );
    }
    if (this.live && !this.live.lost) return Promise.resolve(this.live);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Live> {
    const previous = this.live;
    this.live = undefined;
    if (previous) {
      this.logger.info(
        { server: this.name },
        `reconnecting to MCP server "${this.name}" (${this.describe()})`,
      );
      await previous.client.close().catch(() => undefined);
    }
    const stderr = { tail: "" };
    const { transport, secretValues } = await this.openTransport(stderr);
    const client = new Client(this.options.clientInfo ?? { name: "aat", version: "1" }, { capabilities: {} });
    const live: Live = { client, transport, lost: false, secretValues, stderr };
    client.onclose = () => {
      if (this.live !== live || this.shutDown) return;
      live.lost = true;
      this.logger.warn(
        { server: this.name, stderr: this.redactedTail(live) },
        `MCP server "${this.name}" closed the connection; it is reconnected on the next call`,
      );
    };
    client.onerror = (error) => {
      this.logger.debug(
        { server: this.name, error: redactSecrets(error.message, secretValues) },
        "MCP transport error",
      );
    };
    try {
      await client.connect(transport, { timeout: this.settings.startTimeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      await settleOutput();
      throw this.connectError(
        this.settings.transport === "stdio"
          ? `MCP server "${this.name}" could not be started (${this.describe()})`
          : `MCP server "${this.name}" could not be reached (${this.describe()})`,
        error,
        live,
      );
    }
    if (this.shutDown) {
      await client.close().catch(() => undefined);
      throw new McpConnectError(this.name, `MCP server "${this.name}" is closed (aat is shutting down)`);
    }
    this.live = live;
    const version = client.getServerVersion();
    this.logger.info(
      { server: this.name, serverName: version?.name, serverVersion: version?.version },
      `connected to MCP server "${this.name}" (${this.describe()})`,
    );
    return live;
  }

  private async openTransport(stderr: {
    tail: string;
  }): Promise<{ transport: Transport; secretValues: string[] }> {
    const server = this.settings;
    const settings = `mcp.servers.${this.name}`;
    try {
      if (server.transport === "streamable-http") {
        const headers = await resolveSecretReferences(
          server.headers,
          this.options.secrets,
          (key) => `${settings}.headers.${key}`,
        );
        const transport = new StreamableHTTPClientTransport(new URL(server.url!), {
          requestInit: { headers: headers.values },
        });
        return { transport, secretValues: headers.secretValues };
      }
      const env = await resolveSecretReferences(
        server.env,
        this.options.secrets,
        (key) => `${settings}.env.${key}`,
      );
      const transport = new StdioClientTransport({
        command: server.command!,
        args: server.args,
        env: env.values,
        ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
        stderr: "pipe",
      });
      transport.stderr?.on("data", (chunk: Buffer | string) => {
        const text = chunk.toString();
        stderr.tail = (stderr.tail + text).slice(-STDERR_TAIL_CHARS);
        this.logger.debug(
          { server: this.name, stderr: redactSecrets(text, env.secretValues) },
          "MCP server stderr",
        );
      });
      return { transport, secretValues: env.secretValues };
    } catch (error) {
      throw new McpConnectError(
        this.name,
        `MCP server "${this.name}" could not be configured: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private connectError(summary: string, error: unknown, live: Live): McpConnectError {
    const cause = redactSecrets(describeCause(error), live.secretValues);
    const stderr = this.redactedTail(live);
    const check =
      this.settings.transport === "stdio"
        ? `check mcp.servers.${this.name}.command and args (is the program installed and on PATH?)`
        : `check mcp.servers.${this.name}.url and headers, and that the server is up`;
    return new McpConnectError(
      this.name,
      `${summary}: ${cause}${stderr ? `; its stderr ends with: ${stderr}` : ""}; ${check}`,
      { cause: error },
    );
  }

  private async callFailure(tool: string, error: unknown, live: Live): Promise<ToolError> {
    const where = `MCP tool "${tool}" of server "${this.name}"`;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      return new ToolError(`${where} did not answer within ${this.settings.timeoutMs} ms`, {
        code: "timeout",
        retryable: true,
      });
    }
    if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
      // The server answered with a JSON-RPC error: it refused this request, so the same request fails again.
      return new ToolError(`${where} refused the call: ${redactSecrets(error.message, live.secretValues)}`, {
        code: "mcp_error",
        retryable: false,
        details: { mcpCode: error.code },
      });
    }
    if (isAbort(error)) {
      return new ToolError(`${where} was cancelled`, { code: "cancelled", retryable: true });
    }
    // The transport failed (process exited, connection dropped): reconnect on the next call.
    live.lost = true;
    await settleOutput();
    const stderr = this.redactedTail(live);
    return new ToolError(
      `${where} failed because the connection to the server was lost (${this.describe()}): ${redactSecrets(describeCause(error), live.secretValues)}${stderr ? `; its stderr ends with: ${stderr}` : ""}. The call may or may not have taken effect; the server is reconnected on the next call`,
      { code: "mcp_connection_lost", retryable: true },
    );
  }

  private redactedTail(live: Live): string {
    return redactSecrets(live.stderr.tail.trim(), live.secretValues);
  }
}

/** Lets stderr that was piped just before the child exited reach the tail (the pipe delivers a tick later). */
function settleOutput(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
