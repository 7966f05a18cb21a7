/**
 * An MCP server could not be started, reached or initialised. The message names the server, what was
 * run or called (command line or URL, never secrets), the cause and the settings to check.
 */
export class McpConnectError extends Error {
  constructor(
    readonly server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "McpConnectError";
  }
}
