import type { McpConfig } from "../../config/mcp.js";
import type { Secrets } from "../../secrets/secrets.js";
import { silentLogger } from "../context.js";
import type { ToolRegistry } from "../registry.js";
import type { ToolLogger } from "../types.js";
import { McpConnection } from "./connection.js";
import { McpConnectError } from "./errors.js";
import { mcpToolName } from "./names.js";
import { mcpTool } from "./tool.js";

export interface ConnectMcpOptions {
  registry: ToolRegistry;
  logger?: ToolLogger;
  /** Resolves `{{secret:NAME}}` in env and header values. */
  secrets?: Secrets;
  /** How aat introduces itself to the servers. */
  clientInfo?: { name: string; version: string };
}

export interface McpClients {
  /** Connections by server name. */
  connections: ReadonlyMap<string, McpConnection>;
  /** Registry names of the tools each server contributed. */
  tools: Readonly<Record<string, string[]>>;
  /** Disconnect every server (stdio children are stopped). Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to every configured MCP server at once, lists its tools and registers each as
 * `mcp.<server>.<tool>`. Call it before plans are loaded: plans naming these tools are checked against
 * the registry. If any server cannot be started or reached, every connection is closed again and the
 * error names each failing server with its command or URL.
 */
export async function connectMcpServers(
  config: Pick<McpConfig, "servers">,
  options: ConnectMcpOptions,
): Promise<McpClients> {
  const logger = options.logger ?? silentLogger;
  const connections = new Map<string, McpConnection>();
  for (const [name, server] of Object.entries(config.servers)) {
    connections.set(
      name,
      new McpConnection({
        name,
        server,
        logger,
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(options.clientInfo ? { clientInfo: options.clientInfo } : {}),
      }),
    );
  }
  const close = async () => {
    await Promise.all([...connections.values()].map((connection) => connection.close()));
  };

  const listed = await Promise.allSettled(
    [...connections.values()].map(async (connection) => ({
      connection,
      tools: await connection.listTools(),
    })),
  );
  const failures = listed.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
  if (failures.length > 0) {
    await close();
    const messages = failures.map((error) => (error instanceof Error ? error.message : String(error)));
    throw new McpConnectError(
      failures[0] instanceof McpConnectError ? failures[0].server : "?",
      messages.length === 1
        ? messages[0]!
        : `${messages.length} MCP servers failed:\n- ${messages.join("\n- ")}`,
      { cause: failures[0] },
    );
  }

  const tools: Record<string, string[]> = {};
  try {
    for (const result of listed) {
      if (result.status !== "fulfilled") continue;
      const { connection } = result.value;
      tools[connection.name] = registerServerTools(connection, result.value.tools, options.registry, logger);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { connections, tools, close };
}

function registerServerTools(
  connection: McpConnection,
  descriptors: Awaited<ReturnType<McpConnection["listTools"]>>,
  registry: ToolRegistry,
  logger: ToolLogger,
): string[] {
  const server = connection.name;
  const settings = connection.settings;
  const wanted = settings.tools === undefined ? undefined : new Set(settings.tools);
  const offered = new Set(descriptors.map((tool) => tool.name));
  for (const name of wanted ?? []) {
    if (!offered.has(name)) {
      logger.warn(
        { server, tool: name, offered: [...offered].sort() },
        `mcp.servers.${server}.tools names "${name}", which MCP server "${server}" does not offer`,
      );
    }
  }
  const registered: string[] = [];
  const seen = new Map<string, string>();
  for (const descriptor of descriptors) {
    if (wanted && !wanted.has(descriptor.name)) continue;
    if (descriptor.name === "") {
      logger.warn({ server }, `MCP server "${server}" lists a tool without a name; it is skipped`);
      continue;
    }
    const name = mcpToolName(server, descriptor.name);
    const clash = seen.get(name);
    if (clash !== undefined) {
      logger.warn(
        { server, tool: descriptor.name, registeredAs: name, kept: clash },
        `MCP tool "${descriptor.name}" of server "${server}" is skipped: its name becomes ${name}, as does "${clash}"'s`,
      );
      continue;
    }
    seen.set(name, descriptor.name);
    registry.register(
      mcpTool(descriptor, {
        server,
        settings,
        connection,
        onSchemaFallback: (tool, reason) =>
          logger.warn(
            { server, tool, reason },
            `the input schema of MCP tool "${tool}" of server "${server}" could not be converted (${reason}); its inputs are checked only as "a JSON object" here and fully by the server`,
          ),
      }),
    );
    registered.push(name);
  }
  logger.info(
    { server, tools: registered },
    `registered ${registered.length} tool(s) of MCP server "${server}"`,
  );
  return registered;
}
