export { type ConnectMcpOptions, connectMcpServers, type McpClients } from "./connect.js";
export {
  type McpCallOptions,
  McpConnection,
  type McpConnectionOptions,
  type McpToolDescriptor,
} from "./connection.js";
export { McpConnectError } from "./errors.js";
export { anyToolArguments, type McpInputSchema, mcpInputSchema } from "./input-schema.js";
export { MCP_TOOL_PREFIX, mcpCapability, mcpToolName } from "./names.js";
export { type McpToolOptions, type McpToolOutput, mcpTool, mcpToolOutput } from "./tool.js";
