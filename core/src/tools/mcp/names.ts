/** Prefix of every tool an MCP server contributes: `mcp.<server>.<tool>`. */
export const MCP_TOOL_PREFIX = "mcp";

/** The capability a plan declares to use a server's tools: `mcp.<server>`. */
export function mcpCapability(server: string): string {
  return `${MCP_TOOL_PREFIX}.${server}`;
}

/**
 * The registry name of an MCP tool. MCP allows names like `read.file` or `files/list`; each becomes one
 * segment (anything but letters, digits, `_` and `-` turns into `_`), so `mcp.<server>.*` globs stay exact.
 */
export function mcpToolName(server: string, tool: string): string {
  return `${MCP_TOOL_PREFIX}.${server}.${tool.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
