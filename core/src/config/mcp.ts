import * as z from "zod/mini";
import { MAP_KEY_FORM, mapKeyName, positiveInt, setting, text } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `mcp` section: external MCP servers whose tools aat registers (`mcp.servers.<name>`), and the
 * `/v1/mcp` endpoint through which MCP clients start published plans (`mcp.endpoint`).
 */

export const MCP_TRANSPORTS = ["stdio", "streamable-http"] as const;
export type McpTransportKind = (typeof MCP_TRANSPORTS)[number];

/** `{{secret:NAME}}` in an env or header value is replaced by the named secret when the server is connected. */
export const SECRET_REFERENCE = /\{\{\s*secret:([^}\s]+)\s*\}\}/g;
const ANY_TEMPLATE = /\{\{[^}]*\}\}/g;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const mcpServer = () =>
  z
    .strictObject({
      transport: setting(z._default(z.enum(MCP_TRANSPORTS), "stdio"), {
        env: "AAT_MCP_<NAME>_TRANSPORT",
        description:
          "How aat reaches the server: stdio starts `command` as a child process; streamable-http connects to `url`.",
      }),
      command: setting(z.optional(text()), {
        env: "AAT_MCP_<NAME>_COMMAND",
        description: "Program that starts the server (stdio). Required for stdio.",
        example: "npx",
      }),
      args: setting(z._default(z.array(z.string()), []), {
        env: "AAT_MCP_<NAME>_ARGS",
        description: "Arguments of `command` (stdio).",
        example: '["-y","@modelcontextprotocol/server-filesystem","/srv/share"]',
      }),
      env: setting(
        z._default(
          z.record(z.string().check(z.regex(ENV_NAME, "must be an environment variable name")), z.string()),
          {},
        ),
        {
          env: "AAT_MCP_<NAME>_ENV",
          description:
            "Environment of the child process (stdio), on top of a minimal inherited one (PATH, HOME, …; never aat's own variables). Write `{{secret:NAME}}` for a secret's value.",
          expected: "a JSON object of variable name to value",
          // Values may hold literal credentials despite the advice: never shown in logs or errors.
          secret: true,
          example: '{"GITHUB_TOKEN":"{{secret:github_token}}"}',
        },
      ),
      cwd: setting(z.optional(text()), {
        env: "AAT_MCP_<NAME>_CWD",
        description: "Working directory of the child process (stdio); defaults to aat's.",
        path: true,
      }),
      url: setting(z.optional(z.url({ protocol: /^https?$/ })), {
        env: "AAT_MCP_<NAME>_URL",
        description: "Endpoint of the server (streamable-http). Required for streamable-http.",
        example: "https://mcp.example.com/mcp",
      }),
      headers: setting(
        z._default(
          z.record(z.string().check(z.regex(HEADER_NAME, "must be an HTTP header name")), z.string()),
          {},
        ),
        {
          env: "AAT_MCP_<NAME>_HEADERS",
          description:
            "HTTP headers sent with every request (streamable-http). Write `{{secret:NAME}}` for a secret's value, e.g. a bearer token.",
          expected: "a JSON object of header name to value",
          secret: true,
          example: '{"Authorization":"Bearer {{secret:mcp_token}}"}',
        },
      ),
      dangerous: setting(z._default(z.boolean(), true), {
        env: "AAT_MCP_<NAME>_DANGEROUS",
        description:
          "Calls to this server's tools from agent steps wait for a person's approval. Set false only for a server whose tools merely read.",
      }),
      tools: setting(z.optional(z.array(text())), {
        env: "AAT_MCP_<NAME>_TOOLS",
        description:
          "Register only these tools of the server (their MCP names); unset registers every tool it lists.",
        example: "read_file,list_directory",
      }),
      timeoutMs: setting(z._default(positiveInt(), 60_000), {
        env: "AAT_MCP_<NAME>_TIMEOUT_MS",
        description: "Time limit of one tool call.",
      }),
      startTimeoutMs: setting(z._default(positiveInt(), 30_000), {
        env: "AAT_MCP_<NAME>_START_TIMEOUT_MS",
        description: "Time limit for starting (or reaching) the server and listing its tools.",
      }),
    })
    .check(
      z.superRefine(
        (entry, ctx) => {
          // Runs even when the entry had other problems (the value may be partly raw), hence the defensive reads.
          if (typeof entry !== "object" || entry === null) return;
          const transport = entry.transport ?? "stdio";
          if (transport === "stdio" && entry.command === undefined) {
            ctx.addIssue({
              code: "custom",
              path: ["command"],
              message: "missing, required for transport stdio",
            });
          }
          if (transport === "streamable-http" && entry.url === undefined) {
            ctx.addIssue({
              code: "custom",
              path: ["url"],
              message: "missing, required for transport streamable-http",
            });
          }
          if (transport === "streamable-http" && entry.command !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: ["command"],
              message: "is for transport stdio; a streamable-http server is reached at `url`",
            });
          }
          if (transport === "stdio" && entry.url !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: ["url"],
              message: 'is for transport streamable-http; set transport: "streamable-http" to use it',
            });
          }
          for (const field of ["env", "headers"] as const) {
            const values = entry[field];
            if (typeof values !== "object" || values === null) continue;
            for (const [key, value] of Object.entries(values)) {
              const problem = typeof value === "string" ? templateProblem(value) : undefined;
              if (problem) ctx.addIssue({ code: "custom", path: [field, key], message: problem });
            }
          }
        },
        { when: () => true },
      ),
    );

/** A `{{…}}` that is not a well-formed `{{secret:NAME}}`, described; undefined when the value is fine. */
function templateProblem(value: string): string | undefined {
  for (const match of value.matchAll(ANY_TEMPLATE)) {
    if (!new RegExp(`^${SECRET_REFERENCE.source}$`).test(match[0])) {
      return `${match[0]} is not a secret reference; write {{secret:NAME}}`;
    }
  }
  return undefined;
}

export const mcpSection = configSection("mcp", () =>
  z.strictObject({
    servers: setting(z._default(z.record(mapKeyName(), mcpServer()), {}), {
      env: "AAT_MCP_SERVERS_JSON",
      mapKey: "name",
      description:
        "MCP servers whose tools are registered as mcp.<name>.<tool> (plans declare capability mcp.<name> to use them). AAT_MCP_SERVERS_JSON holds the whole map as JSON; AAT_MCP_<NAME>_* variables set or override single fields.",
      expected: `a JSON object mapping a server name (${MAP_KEY_FORM}) to { transport, command, args, env, cwd, url, headers, dangerous, tools, timeoutMs, startTimeoutMs }`,
      example:
        '{"files":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem","/srv/share"]}}',
    }),
    endpoint: configSection("mcp.endpoint", () =>
      z.strictObject({
        enabled: setting(z._default(z.boolean(), true), {
          env: "AAT_MCP_ENDPOINT_ENABLED",
          description:
            "Serve /v1/mcp, where MCP clients list published plans as tools and start them (authenticated like the rest of the API).",
        }),
        waitMs: setting(z._default(positiveInt(), 30_000), {
          env: "AAT_MCP_ENDPOINT_WAIT_MS",
          description:
            "How long a plan tool call waits for its run to finish before it answers with the run id and status (poll with get_run).",
        }),
      }),
    ),
  }),
);

export type McpServerConfig = z.output<ReturnType<typeof mcpServer>>;
export type McpConfig = z.output<typeof mcpSection>;
