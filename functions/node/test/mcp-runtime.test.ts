import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  aatConfigSchema,
  callTool,
  connectMcpServers,
  type McpClients,
  mcpSection,
  ToolRegistry,
} from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterEach, describe, expect, it } from "vitest";
import { capturingLogger, REPO_ROOT, SHIPPED_PLANS, tempDir } from "./support.js";

/** The reference MCP server core's tests use, resolved as core (which declares it) resolves it. */
const EVERYTHING = join(
  dirname(
    createRequire(join(REPO_ROOT, "core/package.json")).resolve(
      "@modelcontextprotocol/server-everything/package.json",
    ),
  ),
  "dist/index.js",
);

const SUM_PLAN = `
id: mcp.sum
workflow: automation
title: Adds two numbers on an MCP server
inputs:
  type: object
  properties: { a: { type: number }, b: { type: number } }
  required: [a, b]
capabilities: [mcp.everything]
steps:
  - id: add
    type: tool
    tool: mcp.everything.get-sum
    with: { a: "{% input.a %}", b: "{% input.b %}" }
outputs:
  text: "{% steps.add.output.content[0].text %}"
`;

const started: NodeRuntime[] = [];
const clients: McpClients[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const runtime of started.splice(0)) await runtime.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("startNodeRuntime with MCP", () => {
  it("registers a configured MCP server's tools for plans and serves plans at /v1/mcp", async () => {
    const dataDir = await tempDir("mcp");
    dirs.push(dataDir);
    const plansDir = join(dataDir, "plans");
    await mkdir(plansDir);
    await writeFile(join(plansDir, "sum.yaml"), SUM_PLAN);
    const { logger, lines } = capturingLogger();
    const runtime = await startNodeRuntime({
      config: aatConfigSchema.parse({
        dataDir,
        server: { port: 0 },
        plans: { directories: [SHIPPED_PLANS, plansDir], watch: false },
        // Not dangerous: the plan's tool step runs its tool without waiting for an approval.
        mcp: {
          servers: {
            everything: { command: process.execPath, args: [EVERYTHING, "stdio"], dangerous: false },
          },
        },
      }),
      logger,
      print: () => undefined,
      siteDir: join(dataDir, "no-site"),
    });
    started.push(runtime);
    expect(
      lines.some(
        (line) =>
          line.msg ===
          'connected to MCP server "everything" (command ' + `${process.execPath} ${EVERYTHING} stdio)`,
      ),
    ).toBe(true);
    const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";

    // An MCP client (aat's own) reaches the plans: the call runs the plan's MCP tool step on the worker.
    const registry = new ToolRegistry();
    const client = await connectMcpServers(
      mcpSection.parse({
        servers: {
          aat: {
            transport: "streamable-http",
            url: `${runtime.url}/v1/mcp`,
            headers: { Authorization: "Bearer {{secret:key}}" },
          },
        },
      }),
      { registry, secrets: { get: async (name) => (name === "key" ? key : undefined) } },
    );
    clients.push(client);
    expect(registry.names()).toEqual(
      expect.arrayContaining(["mcp.aat.get_run", "mcp.aat.plan_automation_hello", "mcp.aat.plan_mcp_sum"]),
    );
    const output = (await callTool(
      registry.get("mcp.aat.plan_mcp_sum")!,
      { a: 2, b: 40 },
      {
        runId: "test",
        stepKey: "call",
        attempt: 1,
        idempotencyKey: "test/call/1",
        signal: new AbortController().signal,
      },
    )) as { structuredContent: Record<string, unknown> };
    expect(output.structuredContent).toMatchObject({
      planId: "mcp.sum",
      status: "succeeded",
      output: { text: "The sum of 2 and 40 is 42." },
    });
  });

  it("refuses to start when a configured MCP server cannot, naming it and its command", async () => {
    const dataDir = await tempDir("mcp-broken");
    dirs.push(dataDir);
    const error = await startNodeRuntime({
      config: aatConfigSchema.parse({
        dataDir,
        server: { port: 0 },
        plans: { directories: [SHIPPED_PLANS], watch: false },
        mcp: { servers: { files: { command: "aat-no-such-mcp-server", args: ["/srv"] } } },
      }),
      logger: capturingLogger().logger,
      print: () => undefined,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^MCP server "files" could not be started \(command aat-no-such-mcp-server \/srv\): spawn aat-no-such-mcp-server ENOENT/,
    );
  });
});
