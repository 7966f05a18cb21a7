import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type McpServerConfig, mcpSection } from "../../src/config/mcp.js";
import { callTool } from "../../src/tools/call.js";
import { ToolError, ToolInputError } from "../../src/tools/errors.js";
import { connectMcpServers, type McpClients } from "../../src/tools/mcp/connect.js";
import { McpConnectError } from "../../src/tools/mcp/errors.js";
import { mcpInputSchema } from "../../src/tools/mcp/input-schema.js";
import { mcpToolName } from "../../src/tools/mcp/names.js";
import { mcpTool } from "../../src/tools/mcp/tool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";
import { callContext, type LogLine, mapSecrets, recordingLogger } from "./helpers.js";

/** The real reference server from npm (@modelcontextprotocol/server-everything), started over stdio. */
const EVERYTHING = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist/index.js",
);

function servers(entries: Record<string, Record<string, unknown>>): Record<string, McpServerConfig> {
  return mcpSection.parse({ servers: entries }).servers;
}

function everything(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [EVERYTHING, "stdio"], ...extra };
}

const opened: McpClients[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((clients) => clients.close()));
});

async function connect(
  entries: Record<string, Record<string, unknown>>,
  options: { secrets?: Record<string, string>; lines?: LogLine[] } = {},
) {
  const registry = new ToolRegistry();
  const logger = recordingLogger(options.lines ?? []);
  const clients = await connectMcpServers(
    { servers: servers(entries) },
    { registry, logger, ...(options.secrets ? { secrets: mapSecrets(options.secrets) } : {}) },
  );
  opened.push(clients);
  return { registry, clients, logger };
}

function tool(registry: ToolRegistry, name: string): Tool {
  const found = registry.get(name);
  if (!found) throw new Error(`${name} is not registered; registered: ${registry.names().join(", ")}`);
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe("MCP client against @modelcontextprotocol/server-everything over stdio", () => {
  it("registers every listed tool as mcp.<server>.<tool>, dangerous, needing capability mcp.<server>", async () => {
    const { registry, clients } = await connect({ everything: everything() });
    const names = registry.names();
    expect(names).toEqual(expect.arrayContaining(["mcp.everything.echo", "mcp.everything.get-sum"]));
    expect(names.every((name) => name.startsWith("mcp.everything."))).toBe(true);
    expect(clients.tools.everything?.sort()).toEqual(names);
    const sum = tool(registry, "mcp.everything.get-sum");
    expect(sum.description).toBe("Returns the sum of two numbers");
    expect(sum.capabilities).toEqual(["mcp.everything"]);
    expect(sum.dangerous).toBe(true);
    expect(registry.match("mcp.everything.*").length).toBe(names.length);
  });

  it("calls a tool with good input and returns its content blocks", async () => {
    const { registry } = await connect({ everything: everything() });
    const output = await callTool(tool(registry, "mcp.everything.get-sum"), { a: 2, b: 3 }, callContext());
    expect(output).toEqual({ content: [{ type: "text", text: "The sum of 2 and 3 is 5." }] });
  });

  it("returns structuredContent when the server sends it", async () => {
    const { registry } = await connect({ everything: everything() });
    const output = await callTool(
      tool(registry, "mcp.everything.get-structured-content"),
      { location: "Chicago" },
      callContext(),
    );
    expect(output).toMatchObject({
      structuredContent: { temperature: 36, conditions: "Light rain / drizzle", humidity: 82 },
    });
  });

  it("refuses bad input before sending it, with the field paths from the server's JSON Schema", async () => {
    const { registry } = await connect({ everything: everything() });
    const error = await callTool(tool(registry, "mcp.everything.get-sum"), { a: "two" }, callContext()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolInputError);
    const issues = (error as ToolInputError).issues;
    expect(issues.map((issue) => issue.path)).toEqual(["a", "b"]);
    expect(issues[0]?.message).toMatch(/expected number, received string/);
    expect((error as ToolInputError).retryable).toBe(false);
    const enumError = (await callTool(
      tool(registry, "mcp.everything.get-structured-content"),
      { location: "Paris" },
      callContext(),
    ).catch((e: unknown) => e)) as ToolInputError;
    expect(enumError.issues[0]?.path).toBe("location");
  });

  it("turns an isError result into a non-retryable ToolError with the server's text", async () => {
    const { registry } = await connect({ everything: everything() });
    const sum = tool(registry, "mcp.everything.get-sum");
    // Past our own validation on purpose, so the server's own check answers with isError.
    const error = (await sum.run({ a: "x" }, completeContext()).catch((e: unknown) => e)) as ToolError;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.code).toBe("mcp_tool_error");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^MCP tool "get-sum" of server "everything" reported an error: .*Input validation error/,
    );
  });

  it("registers only the tools listed in `tools`, warning about a name the server does not offer", async () => {
    const lines: LogLine[] = [];
    const { registry } = await connect(
      { everything: everything({ tools: ["get-sum", "echo", "get-summ"], dangerous: false }) },
      { lines },
    );
    expect(registry.names()).toEqual(["mcp.everything.echo", "mcp.everything.get-sum"]);
    expect(tool(registry, "mcp.everything.echo").dangerous).toBe(false);
    expect(lines.find((line) => line.level === "warn")?.message).toBe(
      'mcp.servers.everything.tools names "get-summ", which MCP server "everything" does not offer',
    );
  });

  it("passes env with secrets resolved, and none of aat's own environment, to the child", async () => {
    process.env.AAT_MCP_TEST_LEAK = "must-not-reach-the-child";
    try {
      const lines: LogLine[] = [];
      const { registry } = await connect(
        { everything: everything({ env: { GREETING: "token {{secret:greeting}}", PLAIN: "yes" } }) },
        { secrets: { greeting: "s3cret-value" }, lines },
      );
      const output = (await callTool(tool(registry, "mcp.everything.get-env"), {}, callContext())) as {
        content: Array<{ text: string }>;
      };
      const env = JSON.parse(output.content[0]!.text) as Record<string, string>;
      expect(env.GREETING).toBe("token s3cret-value");
      expect(env.PLAIN).toBe("yes");
      expect(env.AAT_MCP_TEST_LEAK).toBeUndefined();
      expect(JSON.stringify(lines)).not.toContain("s3cret-value");
    } finally {
      delete process.env.AAT_MCP_TEST_LEAK;
    }
  });

  it("names the env entry and where to set a secret that is missing", async () => {
    const error = await connect(
      { everything: everything({ env: { TOKEN: "{{secret:github_token}}" } }) },
      { secrets: {} },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectError);
    expect((error as Error).message).toBe(
      'MCP server "everything" could not be configured: mcp.servers.everything.env.TOKEN names secret "github_token", which is not configured: set test secret github_token',
    );
  });

  it("reports a crash during a call as a retryable error naming the server, then reconnects", async () => {
    const lines: LogLine[] = [];
    const { registry, clients } = await connect({ everything: everything() }, { lines });
    const connection = clients.connections.get("everything")!;
    const firstPid = connection.processId!;
    expect(isAlive(firstPid)).toBe(true);

    const slow = callTool(
      tool(registry, "mcp.everything.trigger-long-running-operation"),
      { duration: 30, steps: 3 },
      callContext(),
    ).catch((e: unknown) => e);
    process.kill(firstPid, "SIGKILL");
    const error = (await slow) as ToolError;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.code).toBe("mcp_connection_lost");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(
      `MCP tool "trigger-long-running-operation" of server "everything" failed because the connection to the server was lost (command ${process.execPath} ${EVERYTHING} stdio)`,
    );
    expect(error.message).toContain("the server is reconnected on the next call");

    const output = await callTool(tool(registry, "mcp.everything.get-sum"), { a: 1, b: 1 }, callContext());
    expect(output).toEqual({ content: [{ type: "text", text: "The sum of 1 and 1 is 2." }] });
    expect(connection.processId).not.toBe(firstPid);
    expect(lines.some((line) => line.message?.startsWith('reconnecting to MCP server "everything"'))).toBe(
      true,
    );
  });

  it("reconnects before the next call when the server died between calls", async () => {
    const lines: LogLine[] = [];
    const { registry, clients } = await connect({ everything: everything() }, { lines });
    const connection = clients.connections.get("everything")!;
    const firstPid = connection.processId!;
    process.kill(firstPid, "SIGKILL");
    await until(
      () => lines.some((line) => line.message?.includes("closed the connection")),
      "the close to be noticed",
    );
    const output = await callTool(tool(registry, "mcp.everything.echo"), { message: "again" }, callContext());
    expect(output).toEqual({ content: [{ type: "text", text: "Echo: again" }] });
    expect(connection.processId).not.toBe(firstPid);
  });

  it("stops the child on close; later calls fail without restarting it", async () => {
    const { registry, clients } = await connect({ everything: everything() });
    const pid = clients.connections.get("everything")!.processId!;
    await clients.close();
    await until(() => !isAlive(pid), "the child to exit");
    const error = (await callTool(
      tool(registry, "mcp.everything.echo"),
      { message: "x" },
      callContext(),
    ).catch((e: unknown) => e)) as ToolError;
    expect(error.code).toBe("mcp_unavailable");
    expect(error.message).toBe('MCP server "everything" is closed (aat is shutting down)');
  });
});

describe("MCP servers that cannot start", () => {
  it("names the server and the command when the program does not exist", async () => {
    const error = await connect({ broken: { command: "aat-no-such-mcp-server", args: ["--serve"] } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpConnectError);
    expect((error as McpConnectError).server).toBe("broken");
    expect((error as Error).message).toMatch(
      /^MCP server "broken" could not be started \(command aat-no-such-mcp-server --serve\): spawn aat-no-such-mcp-server ENOENT; check mcp\.servers\.broken\.command and args/,
    );
  });

  it("quotes what the child wrote to stderr before it exited", async () => {
    const error = await connect({
      crashy: {
        command: process.execPath,
        args: ["-e", "console.error('fatal: CONFIG_PATH is not set'); process.exit(3)"],
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConnectError);
    const message = (error as Error).message;
    expect(message).toMatch(/^MCP server "crashy" could not be started \(command .* -e "console\.error/);
    expect(message).toContain("its stderr ends with: fatal: CONFIG_PATH is not set");
  });

  it("closes the servers that did start when another fails, and lists every failure", async () => {
    const lines: LogLine[] = [];
    const error = await connect(
      {
        everything: everything(),
        one: { command: "aat-no-such-mcp-one" },
        two: { command: "aat-no-such-mcp-two" },
      },
      { lines },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^2 MCP servers failed:\n- MCP server "one" .*\n- MCP server "two" /,
    );
    const started = lines.find((line) => line.message?.startsWith('connected to MCP server "everything"'));
    expect(started).toBeDefined();
  });
});

describe("MCP tool input schemas", () => {
  it("converts JSON Schema (draft-07 or 2020-12) with zod, keeping unknown keys", () => {
    const { schema, converted } = mcpInputSchema({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { n: { type: "integer", minimum: 1 } },
      required: ["n"],
    });
    expect(converted).toBe(true);
    expect(schema.safeParse({ n: 2, extra: true }).success).toBe(true);
    expect(schema.safeParse({ n: 0 }).success).toBe(false);
  });

  it("falls back to any JSON object, with the reason logged, when a schema cannot be converted", async () => {
    const reasons: string[] = [];
    const descriptor = {
      name: "weird.tool/v2",
      inputSchema: { type: "object" as const, properties: { x: { $ref: "#/definitions/missing" } } },
    };
    const settings = servers({ s: { command: "unused" } }).s!;
    const made = mcpTool(descriptor, {
      server: "s",
      settings,
      connection: undefined as never,
      onSchemaFallback: (name, reason) => reasons.push(`${name}: ${reason}`),
    });
    expect(made.name).toBe("mcp.s.weird_tool_v2");
    expect(reasons).toEqual(["weird.tool/v2: Reference not found: #/definitions/missing"]);
    expect(made.input.safeParse({ x: { anything: [1] } }).success).toBe(true);
    expect(made.input.safeParse("not an object").success).toBe(false);
    expect(new ToolRegistry([made]).has("mcp.s.weird_tool_v2")).toBe(true);
  });

  it("maps MCP tool names onto one registry segment", () => {
    expect(mcpToolName("files", "read_file")).toBe("mcp.files.read_file");
    expect(mcpToolName("files", "files.read")).toBe("mcp.files.files_read");
    expect(mcpToolName("gh", "get-issue")).toBe("mcp.gh.get-issue");
  });
});

function completeContext() {
  const ctx = callContext();
  return {
    ...ctx,
    secrets: { get: async () => undefined, require: async () => "" },
    logger: recordingLogger(),
    span: undefined as never,
  };
}
