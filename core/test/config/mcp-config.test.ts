import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { mcpSection } from "../../src/config/mcp.js";

function load(env: Record<string, string>) {
  return loadConfig({ env, cwd: "/srv/aat" });
}

describe("mcp configuration", () => {
  it("needs a command for stdio and a url for streamable-http, and checks secret references", () => {
    const result = mcpSection.safeParse({
      servers: {
        a: {},
        b: { transport: "streamable-http" },
        c: {
          transport: "streamable-http",
          url: "https://x.example/mcp",
          headers: { Authorization: "Bearer {{token}}" },
        },
        d: { command: "x", url: "https://x.example/mcp" },
      },
    });
    expect(result.success).toBe(false);
    const problems = result.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    expect(problems).toEqual([
      "servers.a.command: missing, required for transport stdio",
      "servers.b.url: missing, required for transport streamable-http",
      "servers.c.headers.Authorization: {{token}} is not a secret reference; write {{secret:NAME}}",
      'servers.d.url: is for transport streamable-http; set transport: "streamable-http" to use it',
    ]);
  });

  it("defaults: stdio, dangerous, 60 s calls, endpoint on with a 30 s wait", () => {
    const config = mcpSection.parse({ servers: { fs: { command: "npx" } } });
    expect(config.servers.fs).toMatchObject({
      transport: "stdio",
      args: [],
      env: {},
      dangerous: true,
      timeoutMs: 60_000,
      startTimeoutMs: 30_000,
    });
    expect(config.endpoint).toEqual({ enabled: true, waitMs: 30_000 });
  });
});

describe("mcp settings from the environment", () => {
  it("reads the whole map from AAT_MCP_SERVERS_JSON and single fields from AAT_MCP_<NAME>_*", () => {
    const { config, warnings } = load({
      AAT_MCP_SERVERS_JSON: JSON.stringify({
        files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv/share"] },
      }),
      AAT_MCP_FILES_DANGEROUS: "false",
      AAT_MCP_FILES_TOOLS: "read_text_file,list_directory",
      AAT_MCP_TICKETS_TRANSPORT: "streamable-http",
      AAT_MCP_TICKETS_URL: "https://mcp.example.com/mcp",
      AAT_MCP_TICKETS_HEADERS: '{"Authorization":"Bearer {{secret:tickets_token}}"}',
      AAT_MCP_TICKETS_START_TIMEOUT_MS: "5000",
      AAT_MCP_ENDPOINT_WAIT_MS: "10000",
    });
    expect(warnings).toEqual([]);
    expect(config.mcp.servers.files).toMatchObject({
      transport: "stdio",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem", "/srv/share"],
      dangerous: false,
      tools: ["read_text_file", "list_directory"],
    });
    expect(config.mcp.servers.tickets).toMatchObject({
      transport: "streamable-http",
      url: "https://mcp.example.com/mcp",
      headers: { Authorization: "Bearer {{secret:tickets_token}}" },
      startTimeoutMs: 5000,
      timeoutMs: 60_000,
    });
    expect(config.mcp.endpoint.waitMs).toBe(10_000);
  });

  it("names the variable of a missing command", () => {
    const error = (() => {
      try {
        load({ AAT_MCP_FILES_ARGS: "/srv/share" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("mcp.servers.files.command (env AAT_MCP_FILES_COMMAND)");
    expect((error as Error).message).toContain("missing, required for transport stdio");
  });
});
