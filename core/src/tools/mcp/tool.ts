import { z } from "zod";
import type { McpServerConfig } from "../../config/mcp.js";
import { ToolError } from "../errors.js";
import type { Tool } from "../types.js";
import type { McpConnection, McpToolDescriptor } from "./connection.js";
import { mcpInputSchema } from "./input-schema.js";
import { mcpCapability, mcpToolName } from "./names.js";

/** What an MCP tool returns: its content blocks, and `structuredContent` when the server sends it. */
export const mcpToolOutput = z.object({
  content: z.array(z.looseObject({ type: z.string() })),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
});
export type McpToolOutput = z.output<typeof mcpToolOutput>;

/** Characters of an error result's text carried into the ToolError message. */
const ERROR_TEXT_CHARS = 1000;

export interface McpToolOptions {
  server: string;
  settings: McpServerConfig;
  connection: McpConnection;
  /** Told when the tool's input schema had to be replaced by "any object". */
  onSchemaFallback?: (tool: string, reason: string) => void;
}

/**
 * A registry Tool for one tool of an MCP server: `mcp.<server>.<tool>`, input checked against the
 * server's JSON Schema before anything is sent, capability `mcp.<server>`, dangerous unless the server
 * is configured otherwise. An `isError` result becomes a non-retryable ToolError carrying its text.
 */
export function mcpTool(
  descriptor: McpToolDescriptor,
  options: McpToolOptions,
): Tool<unknown, McpToolOutput> {
  const { server, settings, connection } = options;
  const input = mcpInputSchema(descriptor.inputSchema as Record<string, unknown>);
  if (!input.converted) options.onSchemaFallback?.(descriptor.name, input.reason);
  return {
    name: mcpToolName(server, descriptor.name),
    description:
      descriptor.description ?? descriptor.title ?? `Tool "${descriptor.name}" of MCP server "${server}".`,
    input: input.schema,
    output: mcpToolOutput,
    capabilities: [mcpCapability(server)],
    dangerous: settings.dangerous,
    // The connection enforces the same limit; this one also covers waiting for a (re)connect.
    timeoutMs: settings.timeoutMs + settings.startTimeoutMs,
    async run(args, ctx) {
      const result = await connection.callTool(descriptor.name, args as Record<string, unknown>, {
        signal: ctx.signal,
      });
      if (result.isError === true) {
        throw new ToolError(
          `MCP tool "${descriptor.name}" of server "${server}" reported an error: ${errorText(result.content)}`,
          { code: "mcp_tool_error", retryable: false, details: { content: result.content } },
        );
      }
      ctx.logger.debug({ blocks: result.content.length }, "MCP tool answered");
      return {
        content: result.content,
        ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}),
      };
    },
  };
}

function errorText(content: ReadonlyArray<{ type: string; text?: unknown }>): string {
  const text = content
    .filter((block) => block.type === "text" && typeof block.text === "string")
    .map((block) => block.text as string)
    .join("\n")
    .trim();
  if (text === "") return "(no text in the result)";
  return text.length > ERROR_TEXT_CHARS ? `${text.slice(0, ERROR_TEXT_CHARS)}…` : text;
}
