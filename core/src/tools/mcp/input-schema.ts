import { z } from "zod";

/** Arguments of any MCP tool: a JSON object (what the protocol requires when nothing more is known). */
export const anyToolArguments = z.record(z.string(), z.json());

export type McpInputSchema =
  | { schema: z.ZodType; converted: true }
  | { schema: z.ZodType; converted: false; reason: string };

/**
 * The zod schema that checks a call's arguments before they are sent, from the tool's JSON Schema.
 * A schema zod cannot convert (an unresolvable `$ref`, an unknown keyword form) falls back to "any
 * object", with the reason, so the caller can log it: the server still validates what it receives.
 */
export function mcpInputSchema(jsonSchema: Record<string, unknown>): McpInputSchema {
  try {
    const schema = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
    return { schema, converted: true };
  } catch (error) {
    return {
      schema: anyToolArguments,
      converted: false,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}
