import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import type { Role } from "../../src/auth/roles.js";
import { mcpSection } from "../../src/config/mcp.js";
import { callTool } from "../../src/tools/call.js";
import { connectMcpServers, type McpClients } from "../../src/tools/mcp/connect.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { callContext, mapSecrets } from "../tools/helpers.js";
import { makeApi, PLANS, type TestApi } from "./harness.js";

const HELLO = readFileSync(new URL("../../../plans/automation/hello.yaml", import.meta.url), "utf8");

/** One queued tool step: the run stays `running` until the test drains the worker. */
const QUEUED = `
id: demo.queued
workflow: automation
title: Counts in a worker
description: Runs one tool step on the queue.
inputs:
  type: object
  properties:
    label: { type: string }
  required: [label]
steps:
  - id: count
    type: tool
    tool: test.count
    with: { label: "{% input.label %}" }
`;

const PLAN_TEXTS = [HELLO, QUEUED, PLANS.approve, PLANS.hook];

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});

async function mcpClient(api: TestApi, role: Role | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL("http://aat.test/v1/mcp"), {
    fetch: async (url, init) => api.app.request(String(url), init),
    ...(role ? { requestInit: { headers: { authorization: `Bearer ${api.roleKeys[role]}` } } } : {}),
  });
  const client = new Client({ name: "aat-test", version: "1.0.0" });
  await client.connect(transport);
  closing.push(() => client.close());
  return client;
}

function structured(result: unknown): Record<string, unknown> {
  return (result as CallToolResult).structuredContent as Record<string, unknown>;
}

describe("/v1/mcp: published plans as MCP tools", () => {
  it("lists every plan with a manual trigger as plan_<id>, with its title, description and inputs, plus get_run", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "developer");
    expect(client.getServerVersion()).toMatchObject({ name: "aat", version: "0.0.0-test" });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      "get_run",
      "plan_automation_hello",
      "plan_demo_approve",
      "plan_demo_queued",
    ]);
    const hello = tools.find((tool) => tool.name === "plan_automation_hello")!;
    expect(hello.title).toBe("Greet a list of names and summarise");
    expect(hello.description).toMatch(
      /^Greet a list of names and summarise\n\nGreets every name of the input/,
    );
    expect(hello.description).toContain(
      'Starts a run of aat plan "automation.hello" (version 1, workflow automation)',
    );
    expect(hello.inputSchema).toEqual({
      type: "object",
      properties: {
        names: { type: "array", items: { type: "string", minLength: 1 }, maxItems: 50 },
        excited: { type: "boolean" },
      },
      additionalProperties: false,
    });
  });

  it("calls the hello plan and returns its output", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "analyst");
    const result = (await client.callTool({
      name: "plan_automation_hello",
      arguments: { names: ["Ada", "Grace"], excited: true },
    })) as CallToolResult;
    expect(result.isError).toBeUndefined();
    const content = structured(result);
    expect(content).toMatchObject({
      planId: "automation.hello",
      version: 1,
      status: "succeeded",
      output: {
        greetings: ["Hello, Ada!", "Hello, Grace!"],
        summary: "Greeted 2 people, a small group; the longest name is Grace.",
      },
    });
    expect(content.message).toBe(`run ${content.runId} succeeded`);
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(content);
    const run = await api.runner.load(content.runId as string);
    expect(run?.output).toEqual(content.output);
    const entries = (await api.auditLog.list({ limit: 20 })).entries;
    const started = entries.find((entry) => entry.target === `run:${content.runId}`);
    expect(started).toMatchObject({
      action: "POST /v1/mcp",
      result: "ok",
      details: { via: "mcp", planId: "automation.hello" },
    });
  });

  it("answers input the plan's schema refuses with an error result naming each field", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "responder");
    const result = (await client.callTool({
      name: "plan_automation_hello",
      arguments: { names: [""], loud: true },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    const text = (result.content[0] as { text: string }).text;
    expect(text).toMatch(
      /^could not start plan "automation.hello": the input does not match the inputs schema/,
    );
    const errors = (structured(result).errors as Array<{ path: string }>).map((error) => error.path).sort();
    expect(errors).toEqual(["input.loud", "input.names[0]"]);
    expect((await api.kv.list("run-index/")).entries).toHaveLength(0);
  });

  it("returns the runId and status of a run still going after the wait; get_run reads it later", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS, config: { mcp: { endpoint: { waitMs: 50 } } } });
    const client = await mcpClient(api, "developer");
    const first = structured(await client.callTool({ name: "plan_demo_queued", arguments: { label: "x" } }));
    expect(first.status).toBe("running");
    expect(first.message).toMatch(
      new RegExp(`^run ${first.runId} is still running after \\d+ ms; read it later with get_run$`),
    );
    const runId = first.runId as string;
    expect(structured(await client.callTool({ name: "get_run", arguments: { runId } })).status).toBe(
      "running",
    );
    await api.worker.drain();
    const done = structured(await client.callTool({ name: "get_run", arguments: { runId } }));
    expect(done).toMatchObject({ runId, status: "succeeded", output: { label: "x", count: 1 } });
  });

  it("wakes up when the run finishes during the wait", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "developer");
    const call = client.callTool({ name: "plan_demo_queued", arguments: { label: "y" } });
    // The run is stored before the worker can see its step; drain until it has been executed.
    for (let i = 0; i < 100 && (await api.worker.drain()) === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    const result = structured(await call);
    expect(result).toMatchObject({ status: "succeeded", output: { label: "y", count: 1 } });
  });

  it("returns at once, not as an error, when the run waits for an approval", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "responder");
    const result = (await client.callTool({
      name: "plan_demo_approve",
      arguments: { host: "web-1" },
    })) as CallToolResult;
    expect(result.isError).toBeUndefined();
    const content = structured(result);
    expect(content).toMatchObject({
      status: "waiting",
      waitingFor: [{ step: "ask", message: "Contain web-1?" }],
    });
    expect(content.message).toBe(
      `run ${content.runId} waits for a person to approve ask ("Contain web-1?") in aat; then read it with get_run`,
    );
  });

  it("reports an unknown tool and an unknown run clearly", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const client = await mcpClient(api, "developer");
    await expect(client.callTool({ name: "plan_automation_helo", arguments: {} })).rejects.toThrow(
      'unknown tool "plan_automation_helo" (did you mean "plan_automation_hello"?); tools/list names the tools this server offers',
    );
    const missing = (await client.callTool({
      name: "get_run",
      arguments: { runId: "nope" },
    })) as CallToolResult;
    expect(missing).toMatchObject({
      isError: true,
      content: [{ type: "text", text: 'run "nope" does not exist' }],
    });
  });

  it("answers 401 without credentials and 403 for a viewer", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "1" } },
    };
    const headers = { accept: "application/json, text/event-stream" };
    const anonymous = await api.call("POST", "/v1/mcp", { json: initialize, headers });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Bearer realm="aat"');
    await expect(mcpClient(api, undefined)).rejects.toThrow(/401/);
    const viewer = await api.call("POST", "/v1/mcp", { json: initialize, headers, role: "viewer" });
    expect(viewer.status).toBe(403);
    const developer = await api.call("POST", "/v1/mcp", { json: initialize, headers, role: "developer" });
    expect(developer.status).toBe(200);
    expect(
      ((await developer.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name,
    ).toBe("aat");
  });

  it("answers GET with 405 (stateless: no server stream) and is absent when disabled", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const get = await api.call("GET", "/v1/mcp", { role: "developer" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const off = await makeApi({ plans: PLAN_TEXTS, config: { mcp: { endpoint: { enabled: false } } } });
    expect((await off.call("POST", "/v1/mcp", { role: "developer", json: {} })).status).toBe(404);
  });
});

describe("aat's MCP client over streamable HTTP", () => {
  it("connects to a listening /v1/mcp with a bearer key from a secret and runs a plan through it", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const server = await new Promise<ServerType>((resolve) => {
      const listening = serve({ fetch: api.app.fetch, hostname: "127.0.0.1", port: 0 }, () =>
        resolve(listening),
      );
    });
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as AddressInfo).port;
    const registry = new ToolRegistry();
    const clients: McpClients = await connectMcpServers(
      mcpSection.parse({
        servers: {
          self: {
            transport: "streamable-http",
            url: `http://127.0.0.1:${port}/v1/mcp`,
            headers: { Authorization: "Bearer {{secret:aat_key}}" },
            tools: ["plan_automation_hello"],
          },
        },
      }),
      { registry, secrets: mapSecrets({ aat_key: api.roleKeys.developer }) },
    );
    closing.push(() => clients.close());
    expect(registry.names()).toEqual(["mcp.self.plan_automation_hello"]);
    const tool = registry.get("mcp.self.plan_automation_hello")!;
    expect(tool.capabilities).toEqual(["mcp.self"]);
    const bad = await callTool(tool, { names: [42] }, callContext()).catch((e: unknown) => e);
    expect((bad as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).toEqual([
      "names[0]",
    ]);
    const output = (await callTool(tool, { names: ["Linus"] }, callContext())) as {
      structuredContent: Record<string, unknown>;
    };
    expect(output.structuredContent).toMatchObject({
      status: "succeeded",
      output: { greetings: ["Hello, Linus."] },
    });
  });

  it("names the server and URL when the key is refused", async () => {
    const api = await makeApi({ plans: PLAN_TEXTS });
    const server = await new Promise<ServerType>((resolve) => {
      const listening = serve({ fetch: api.app.fetch, hostname: "127.0.0.1", port: 0 }, () =>
        resolve(listening),
      );
    });
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as AddressInfo).port;
    const error = await connectMcpServers(
      mcpSection.parse({
        servers: {
          self: {
            transport: "streamable-http",
            url: `http://127.0.0.1:${port}/v1/mcp?token=hidden`,
            headers: { Authorization: "Bearer {{secret:aat_key}}" },
          },
        },
      }),
      { registry: new ToolRegistry(), secrets: mapSecrets({ aat_key: "aat_wrong_key_1234567890" }) },
    ).catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(
        `^MCP server "self" could not be reached \\(url http://127\\.0\\.0\\.1:${port}/v1/mcp\\): .*401`,
      ),
    );
    expect(message).toContain("check mcp.servers.self.url and headers");
    expect(message).not.toContain("hidden");
    expect(message).not.toContain("aat_wrong_key_1234567890");
  });
});
