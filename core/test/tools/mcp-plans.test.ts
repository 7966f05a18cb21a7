import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { createRunner, KvPlanRepository, ToolRegistry, Worker, type WorkMessage } from "@aat/core";
import { afterAll, describe, expect, it } from "vitest";
import { mcpSection } from "../../src/config/mcp.js";
import { connectMcpServers, type McpClients } from "../../src/tools/mcp/connect.js";

const EVERYTHING = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist/index.js",
);

const SUM_PLAN = `
id: mcp.sum
workflow: automation
title: Adds two numbers on an MCP server
capabilities: [mcp.everything]
steps:
  - id: add
    type: tool
    tool: mcp.everything.get-sum
    with: { a: "{% input.a %}", b: "{% input.b %}" }
outputs:
  text: "{% steps.add.output.content[0].text %}"
`;

const clients: McpClients[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function engine() {
  const tools = new ToolRegistry();
  const mcp = await connectMcpServers(
    mcpSection.parse({ servers: { everything: { command: process.execPath, args: [EVERYTHING, "stdio"] } } }),
    { registry: tools },
  );
  clients.push(mcp);
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({
    name: `mcp-${crypto.randomUUID()}`,
    visibilityTimeoutMs: 60_000,
  });
  const plans = new KvPlanRepository(kv, { tools });
  const runner = createRunner({ kv, queue, plans, services: { tools } });
  return { plans, runner, worker: new Worker(runner, queue) };
}

describe("MCP tools in plans", () => {
  it("runs an MCP tool as a tool step of a plan that declares mcp.<server>, after an approval (dangerous by default)", async () => {
    const { plans, runner, worker } = await engine();
    await plans.publish(SUM_PLAN);
    const { runId } = await runner.start({ planId: "mcp.sum", input: { a: 20, b: 22 } });
    await worker.drain();
    // MCP tools are dangerous unless the server is configured otherwise: the step asks first.
    expect((await runner.load(runId))?.steps.add?.status).toBe("waiting_approval");
    await runner.approve(runId, "add", "user:alice");
    await worker.drain();
    const state = await runner.load(runId);
    expect(state?.status).toBe("succeeded");
    expect(state?.output).toEqual({ text: "The sum of 20 and 22 is 42." });
  });

  it("refuses at load time a plan that uses an MCP tool without declaring the capability", async () => {
    const { plans } = await engine();
    const error = await plans
      .publish(SUM_PLAN.replace("capabilities: [mcp.everything]\n", ""))
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "plan.yaml:8:11 steps[0].tool: tool mcp.everything.get-sum needs capability mcp.everything; add it to the plan's capabilities",
    );
  });
});
