import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  createRunner,
  formatPlanError,
  KvPlanRepository,
  loadPlanFile,
  type Runner,
  registerBuiltinTools,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { describe, expect, it } from "vitest";
import { humanAskTool } from "../../src/tools/builtin/human-ask.js";
import { planRunTool } from "../../src/tools/builtin/plan-run.js";
import { callTool } from "../../src/tools/call.js";
import { ToolApprovalRequired, type ToolError } from "../../src/tools/errors.js";
import { callContext, mapSecrets } from "./helpers.js";

/** An engine on memory adapters with every built-in tool registered, plan.run bound to its runner. */
async function engine(
  plans: string[],
  options: { allowHosts?: string[]; secrets?: Record<string, string> } = {},
) {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({
    name: `tools-${crypto.randomUUID()}`,
    visibilityTimeoutMs: 60_000,
  });
  const tools = new ToolRegistry();
  let runner: Runner | undefined;
  const names = registerBuiltinTools(tools, {
    http: { allowHosts: options.allowHosts ?? [], maxResponseBytes: 64 * 1024, timeoutMs: 5_000 },
    notes: { kv },
    startRun: (request) => runner!.start(request),
  });
  const repo = new KvPlanRepository(kv, { tools });
  for (const plan of plans) await repo.publish(plan);
  runner = createRunner({
    kv,
    queue,
    plans: repo,
    services: { tools, secrets: mapSecrets(options.secrets ?? {}) },
  });
  const worker = new Worker(runner, queue, { concurrency: 2 });
  return { kv, runner, worker, tools, names, repo };
}

const CHILD = `
id: tools.child
workflow: automation
title: Child
steps:
  - id: double
    type: set
    values: { doubled: "{% input.n * 2 %}" }
`;

const PARENT = `
id: tools.parent
workflow: automation
title: Notes, a script, and a child plan
capabilities: [plan.run]
steps:
  - id: remember
    type: tool
    tool: notes.put
    with: { key: "finding", value: { score: "{% input.score %}" } }
  - id: recall
    type: tool
    tool: notes.get
    with: { key: finding }
  - id: score
    type: tool
    tool: script.js
    with:
      code: |
        function main(input) {
          return { verdict: input.score >= 50 ? "malicious" : "benign", score: input.score };
        }
      input: "{% steps.recall.output.value %}"
  - id: spawn
    type: tool
    tool: plan.run
    with: { planId: tools.child, input: { n: "{% steps.score.output.score %}" } }
outputs:
  verdict: "{% steps.score.output.verdict %}"
  child: "{% steps.spawn.output %}"
`;

describe("built-in tools in a running engine", () => {
  it("registers every built-in tool whose dependencies are given", async () => {
    const { names } = await engine([]);
    expect(names.sort()).toEqual([
      "http.request",
      "human.ask",
      "notes.get",
      "notes.list",
      "notes.put",
      "plan.run",
      "script.js",
    ]);
    expect(registerBuiltinTools(new ToolRegistry()).sort()).toEqual(["human.ask", "script.js"]);
  });

  it("runs notes, script.js and plan.run as tool steps; the child plan runs", async () => {
    const { runner, worker, kv } = await engine([CHILD, PARENT]);
    const { runId } = await runner.start({ planId: "tools.parent", input: { score: 70 } });
    await worker.drain();
    const parent = await runner.load(runId);
    expect(parent?.status).toBe("succeeded");
    const output = parent?.output as {
      verdict: string;
      child: { runId: string; status: string; created: boolean };
    };
    expect(output.verdict).toBe("malicious");
    expect(output.child.runId).toMatch(new RegExp(`^${runId}~plan\\.run~[0-9a-f]{24}$`));
    expect(output.child.created).toBe(true);
    await worker.drain();
    const child = await runner.load(output.child.runId);
    expect(child?.status).toBe("succeeded");
    expect(child?.output).toEqual({ doubled: 140 });
    expect(child?.parent).toBeUndefined();
    expect((await kv.get(`notes/${runId}/finding`))?.value).toEqual({ score: 70 });
  });

  it("plan.run starts one child per idempotency key, and reports a missing plan as permanent", async () => {
    const { runner } = await engine([CHILD]);
    const tool = planRunTool((request) => runner.start(request));
    const ctx = callContext({ runId: "p1", idempotencyKey: "p1/spawn/1" });
    const first = (await callTool(tool, { planId: "tools.child", input: { n: 1, m: 2 } }, ctx)) as {
      runId: string;
    };
    // Same call again (a redelivery), with the input keys in another order: the same run.
    const again = await callTool(tool, { planId: "tools.child", input: { m: 2, n: 1 } }, ctx);
    expect(again).toEqual({ runId: first.runId, status: "succeeded", created: false });
    const retry = (await callTool(
      tool,
      { planId: "tools.child", input: { n: 1, m: 2 } },
      { ...ctx, idempotencyKey: "p1/spawn/2" },
    )) as {
      runId: string;
    };
    expect(retry.runId).not.toBe(first.runId);
    const missing = (await callTool(tool, { planId: "tools.nope" }, ctx).catch(
      (e: unknown) => e,
    )) as ToolError;
    expect(missing).toMatchObject({ code: "plan_not_found", retryable: false });
    expect(missing.message).toBe(
      'could not start plan "tools.nope": plan "tools.nope" does not exist; list plans with GET /v1/plans',
    );
  });

  it("human.ask in a tool step waits as an approval and outputs the decision", async () => {
    const plan = `
id: tools.ask
workflow: automation
title: Ask first
steps:
  - id: ask
    type: tool
    tool: human.ask
    with: { question: "Block {% input.ip %} at the firewall?", approvers: ["role:responder"] }
  - id: after
    type: set
    values: { answer: "{% steps.ask.output.rationale %}", approved: "{% steps.ask.output.approved %}" }
`;
    const { runner, worker } = await engine([plan]);
    const { runId } = await runner.start({ planId: "tools.ask", input: { ip: "6.6.6.6" } });
    await worker.drain();
    const waiting = await runner.load(runId);
    expect(waiting?.status).toBe("waiting");
    expect(waiting?.steps.ask).toMatchObject({
      status: "waiting_approval",
      approval: { request: { message: "Block 6.6.6.6 at the firewall?", approvers: ["role:responder"] } },
    });
    await runner.approve(runId, "ask", "user:ada", "yes, for 24h");
    await worker.drain();
    const done = await runner.load(runId);
    expect(done?.status).toBe("succeeded");
    expect(done?.output).toEqual({ answer: "yes, for 24h", approved: true });
  });

  it("human.ask denied in a tool step fails the step as a rejected approval", async () => {
    const plan = `
id: tools.ask
workflow: automation
title: Ask first
steps:
  - id: ask
    type: tool
    tool: human.ask
    with: { question: "Proceed?" }
`;
    const { runner, worker } = await engine([plan]);
    const { runId } = await runner.start({ planId: "tools.ask" });
    await worker.drain();
    await runner.reject(runId, "ask", "user:bob", "not now");
    await worker.drain();
    const done = await runner.load(runId);
    expect(done?.status).toBe("failed");
    expect(done?.steps.ask?.error).toMatchObject({ code: "approval_rejected", retryable: false });
  });

  it("human.ask returns a decision made before the call, and refuses to run without one", async () => {
    const tool = humanAskTool();
    const approval = { approved: true, by: "user:ada", rationale: "go", at: 1 };
    expect(await callTool(tool, { question: "Go?" }, callContext({ approval }))).toEqual(approval);
    const error = await callTool(tool, { question: "Go?", details: { ip: "1.2.3.4" } }, callContext()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolApprovalRequired);
    expect((error as ToolApprovalRequired).request).toEqual({
      message: "Go?",
      approvers: [],
      proposal: { ip: "1.2.3.4" },
    });
    expect(tool.dangerous).toBe(true);
  });
});

describe("http.request in a tool step", () => {
  it("uses the deployment's secrets by name and keeps them out of the run's state and event log", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(String(req.headers.authorization));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ youSent: req.headers.authorization }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const plan = `
id: tools.fetch
workflow: automation
title: Fetch with a token
capabilities: [network.egress]
steps:
  - id: fetch
    type: tool
    tool: http.request
    with: { url: "http://127.0.0.1:${port}/x", auth: { secret: vendor-token } }
`;
      const { runner, worker } = await engine([plan], {
        allowHosts: ["127.0.0.1"],
        secrets: { "vendor-token": "tok-987654321" },
      });
      const { runId } = await runner.start({ planId: "tools.fetch" });
      await worker.drain();
      const state = await runner.load(runId);
      expect(state?.status).toBe("succeeded");
      expect(received).toEqual(["Bearer tok-987654321"]);
      expect(state?.steps.fetch?.output).toMatchObject({
        status: 200,
        body: { youSent: "Bearer [redacted]" },
      });
      const log = await runner.store.listLog(runId);
      expect(JSON.stringify(log)).not.toContain("tok-987654321");
      expect(JSON.stringify(state)).not.toContain("tok-987654321");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("capabilities are checked when a plan loads", () => {
  async function loadErrors(text: string): Promise<string[]> {
    const { tools } = await engine([]);
    const result = loadPlanFile(text, { file: "plan.yaml", tools });
    return result.ok ? [] : result.errors.map(formatPlanError);
  }

  it("a tool step whose tool needs a capability the plan lacks fails at load", async () => {
    const text = `
id: tools.caps
workflow: automation
title: Needs capabilities
steps:
  - id: fetch
    type: tool
    tool: http.request
    with: { url: "https://example.com" }
  - id: spawn
    type: tool
    tool: plan.run
    with: { planId: tools.child }
  - id: think
    type: agent
    prompt: hi
    tools: ["http.*"]
`;
    expect(await loadErrors(text)).toEqual([
      "plan.yaml:8:11 steps[0].tool: tool http.request needs capability network.egress; add it to the plan's capabilities",
      "plan.yaml:12:11 steps[1].tool: tool plan.run needs capability plan.run; add it to the plan's capabilities",
      "plan.yaml:17:13 steps[2].tools[0]: tool http.request needs capability network.egress; add it to the plan's capabilities",
    ]);
    expect(
      await loadErrors(
        text.replace("title: Needs capabilities", "title: ok\ncapabilities: [network.egress, plan.run]"),
      ),
    ).toEqual([]);
  });

  it("publishing a plan that lacks a capability is refused", async () => {
    const { repo } = await engine([]);
    const text = `
id: tools.caps
workflow: automation
title: Needs egress
steps:
  - id: fetch
    type: tool
    tool: http.request
    with: { url: "https://example.com" }
`;
    await expect(repo.publish(text)).rejects.toThrow("tool http.request needs capability network.egress");
  });
});
