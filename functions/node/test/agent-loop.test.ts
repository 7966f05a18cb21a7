import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema, type KeyValue, type Tool } from "@aat/core";
import { openAiErrorBody, ScriptedLlmServer } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { capturingLogger, eventually, tempDir } from "./support.js";

/*
 * The agent step's loop end to end: the Node runtime (SQLite store, in-process queue, HTTP API), a
 * real AI SDK OpenAI provider talking HTTP to the project's scripted LLM server, tools that count
 * their calls. Approvals go through the HTTP API; the run is read back through GET /v1/runs/:id.
 */

const PLAN = `
id: agent.loop
workflow: automation
title: An agent that looks up an address and may block it
schemas:
  Verdict:
    type: object
    properties:
      verdict: { type: string, enum: [malicious, benign] }
      score: { type: number }
    required: [verdict]
steps:
  - id: assess
    type: agent
    system: "You triage alert {% input.id %}."
    prompt: "Assess {% input.ip %}; block it when it is malicious."
    tools: ["test.*"]
    approvers: ["role:responder"]
    maxRounds: 4
    output: Verdict
    retry: { max: 2, backoff: fixed, initial: 50, jitter: false }
`;

const IP = "203.0.113.9";

function countingTools() {
  const counts = { lookup: 0, block: 0 };
  const keys: string[] = [];
  const lookup: Tool<{ ip: string }, { ip: string; score: number }> = {
    name: "test.lookup",
    description: "Reputation of an IP address (0-100)",
    input: z.object({ ip: z.string().min(7) }),
    output: z.object({ ip: z.string(), score: z.number() }),
    async run({ ip }, ctx) {
      counts.lookup++;
      keys.push(ctx.idempotencyKey);
      return { ip, score: 91 };
    },
  };
  const block: Tool<{ ip: string }, { blocked: string }> = {
    name: "test.block",
    description: "Block an IP address at the firewall",
    input: z.object({ ip: z.string() }),
    dangerous: true,
    async run({ ip }, ctx) {
      counts.block++;
      keys.push(ctx.idempotencyKey);
      return { blocked: ip };
    },
  };
  return { tools: [lookup, block] as Tool[], counts, keys };
}

interface RunView {
  status: string;
  steps: Record<string, Record<string, unknown> & { status: string }>;
  output?: unknown;
  error?: { message: string; code?: string; details?: unknown };
  events: { items: Array<{ seq: number; event: Record<string, unknown> & { type: string } }> };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setUp(options: { decorateKv?: (kv: KeyValue) => KeyValue } = {}) {
  const server = await ScriptedLlmServer.start();
  cleanup.push(() => server.close());
  const dataDir = await tempDir("agent-loop");
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const plansDir = join(dataDir, "plans");
  await mkdir(plansDir);
  await writeFile(join(plansDir, "agent.yaml"), PLAN);
  const { tools, counts, keys } = countingTools();
  const runtime: NodeRuntime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      plans: { directories: [plansDir], watch: false },
      models: {
        default: "smart",
        providers: {
          smart: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: "sk-test-agent-loop-0001",
            baseUrl: server.openAiBaseUrl,
            costPerMillionInput: 1,
            costPerMillionOutput: 2,
          },
        },
      },
    }),
    tools,
    logger: capturingLogger().logger,
    print: () => undefined,
    siteDir: join(dataDir, "no-site"),
    ...(options.decorateKv
      ? { decorateStores: (stores) => ({ ...stores, kv: options.decorateKv!(stores.kv) }) }
      : {}),
  });
  cleanup.push(() => runtime.stop());
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const start = async () =>
    (await api("POST", "/v1/runs", { planId: "agent.loop", input: { id: "A-1", ip: IP } })).runId as string;
  const view = async (runId: string): Promise<RunView> => {
    const body = (await api("GET", `/v1/runs/${runId}`)) as {
      run: Omit<RunView, "events">;
      events: RunView["events"];
    };
    return { ...body.run, events: body.events };
  };
  const until = (runId: string, status: string[]) =>
    eventually(
      async () => {
        const run = await view(runId);
        return status.includes(run.status) ? run : undefined;
      },
      `run ${runId} to be ${status.join(" or ")}`,
    );
  return { server, api, start, view, until, counts, keys };
}

const progressOf = (run: RunView) =>
  run.events.items
    .filter((item) => item.event.type === "step.progress")
    .map((item) => item.event.progress as Record<string, unknown>);

/** The tool message of an OpenAI chat request, by call id. */
function toolMessage(body: unknown, callId: string): { content: string } | undefined {
  const messages = (body as { messages: Array<{ role: string; tool_call_id?: string; content: string }> })
    .messages;
  return messages.find((m) => m.role === "tool" && m.tool_call_id === callId);
}

describe("agent step loop (OpenAI provider over HTTP to the scripted server)", () => {
  it("two tool rounds and an approved dangerous call: the exact proposed call runs once, the transcript and usage are on the run", async () => {
    const t = await setUp();
    t.server.enqueue(
      {
        kind: "reply",
        toolCalls: [{ id: "call_look", name: "test_lookup", input: { ip: IP } }],
        usage: { inputTokens: 100, outputTokens: 10 },
      },
      {
        kind: "reply",
        toolCalls: [{ id: "call_block", name: "test_block", input: { ip: IP } }],
        usage: { inputTokens: 200, outputTokens: 20 },
      },
      {
        kind: "reply",
        text: JSON.stringify({ verdict: "malicious", score: 91 }),
        usage: { inputTokens: 300, outputTokens: 30 },
      },
    );
    const runId = await t.start();

    const waiting = await t.until(runId, ["waiting"]);
    const step = waiting.steps.assess!;
    expect(step.status).toBe("waiting_approval");
    expect(step.approval).toMatchObject({
      request: {
        approvers: ["role:responder"],
        proposal: {
          kind: "agent.tool_call",
          round: 1,
          index: 0,
          callId: "call_block",
          tool: "test.block",
          input: { ip: IP },
        },
      },
    });
    expect(t.counts).toEqual({ lookup: 1, block: 0 });

    await t.api("POST", `/v1/runs/${runId}/steps/assess/approve`, { rationale: "confirmed bad" });
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.output).toEqual({ verdict: "malicious", score: 91 });
    expect(t.counts).toEqual({ lookup: 1, block: 1 });
    expect(t.server.requests).toHaveLength(3);
    // Per call idempotency keys, stable across the executions before and after the approval.
    expect(t.keys).toEqual([`${runId}/assess/1/call/0/0`, `${runId}/assess/1/call/1/0`]);

    // The third request carries both results back to the model; tool names are provider-safe.
    const third = t.server.requests[2]!.body;
    expect(JSON.parse(toolMessage(third, "call_look")!.content)).toEqual({ ip: IP, score: 91 });
    expect(JSON.parse(toolMessage(third, "call_block")!.content)).toEqual({ blocked: IP });
    expect(t.server.requests[0]!.body).toMatchObject({
      messages: [
        { role: "system", content: "You triage alert A-1." },
        { role: "user", content: `Assess ${IP}; block it when it is malicious.` },
      ],
      tools: expect.arrayContaining([
        expect.objectContaining({ function: expect.objectContaining({ name: "test_block" }) }),
      ]),
    });

    // Transcript in the event log, usage and cost summed on the step.
    expect(progressOf(done).map((p) => p.kind)).toEqual([
      "agent.start",
      "agent.model",
      "agent.tool",
      "agent.model",
      "agent.tool",
      "agent.model",
    ]);
    expect(progressOf(done)[4]).toMatchObject({
      tool: "test.block",
      input: { ip: IP },
      outcome: { kind: "output", output: { blocked: IP } },
      approval: { approved: true, rationale: "confirmed bad" },
    });
    expect(done.steps.assess!.progress).toEqual({
      seq: 6,
      rounds: 3,
      toolCalls: 2,
      usage: { inputTokens: 600, outputTokens: 60, totalTokens: 660 },
      cost: (600 * 1 + 60 * 2) / 1e6,
    });
    expect(done.events.items.map((i) => i.event.type)).toContain("approval.granted");
  });

  it("a rejected dangerous call is not run: the model is told it was refused and carries on", async () => {
    const t = await setUp();
    t.server.enqueue(
      { kind: "reply", toolCalls: [{ id: "call_look", name: "test_lookup", input: { ip: IP } }] },
      { kind: "reply", toolCalls: [{ id: "call_block", name: "test_block", input: { ip: IP } }] },
      { kind: "reply", text: JSON.stringify({ verdict: "malicious" }) },
    );
    const runId = await t.start();
    await t.until(runId, ["waiting"]);
    await t.api("POST", `/v1/runs/${runId}/steps/assess/reject`, { rationale: "not during business hours" });
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(t.counts).toEqual({ lookup: 1, block: 0 });
    const refused = toolMessage(t.server.requests[2]!.body, "call_block")!.content;
    expect(refused).toContain("refused this call: not during business hours");
    expect(progressOf(done)[4]).toMatchObject({
      tool: "test.block",
      outcome: { kind: "refused", rationale: "not during business hours" },
    });
  });

  it("bad tool input goes back to the model with field paths; an answer off the schema is repaired once", async () => {
    const t = await setUp();
    t.server.enqueue(
      { kind: "reply", toolCalls: [{ id: "call_bad", name: "test_lookup", input: { ip: "1" } }] },
      { kind: "reply", text: JSON.stringify({ verdict: "probably bad" }) },
      { kind: "reply", text: JSON.stringify({ verdict: "benign" }) },
    );
    const runId = await t.start();
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.output).toEqual({ verdict: "benign" });
    expect(t.counts.lookup).toBe(0);
    const inputError = JSON.parse(toolMessage(t.server.requests[1]!.body, "call_bad")!.content);
    expect(inputError).toMatchObject({ code: "validation", issues: [{ path: "ip" }] });
    const repair = (
      t.server.requests[2]!.body as { messages: Array<{ role: string; content: unknown }> }
    ).messages.at(-1);
    expect(repair).toMatchObject({ role: "user", content: expect.stringContaining("verdict: ") });
    // The repair round offers no tools: only the corrected answer is wanted.
    expect((t.server.requests[2]!.body as { tools?: unknown }).tools).toBeUndefined();
  });

  it("an answer still off the schema after the repair fails the step with the paths", async () => {
    const t = await setUp();
    t.server.enqueue(
      { kind: "reply", text: JSON.stringify({ verdict: "unsure" }) },
      { kind: "reply", text: JSON.stringify({ score: 3 }) },
    );
    const runId = await t.start();
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("failed");
    expect(done.steps.assess!.error).toMatchObject({
      code: "agent_output_invalid",
      retryable: false,
      details: { issues: [{ path: "verdict" }] },
    });
    expect((done.steps.assess!.error as { message: string }).message).toContain(
      "also after one repair: verdict:",
    );
    expect(t.server.requests).toHaveLength(2);
  });

  it("a worker failure after a tool call was recorded resumes from the journal: the call is not repeated, no model round is asked twice", async () => {
    let failures = 0;
    const t = await setUp({
      // The event-log append of the first tool call's progress record fails once: the worker gives
      // the step back (claim released, message nacked) right after the call's journal record was written.
      decorateKv: (kv) =>
        new Proxy(kv, {
          get(target, property, receiver) {
            if (property === "setIfAbsent") {
              return async (key: string, value: unknown, options?: unknown) => {
                const event = value as { type?: string; seq?: number };
                if (failures === 0 && event?.type === "step.progress" && event.seq === 3) {
                  failures++;
                  throw new Error("simulated worker crash after the tool call was recorded");
                }
                return target.setIfAbsent(key, value, options as never);
              };
            }
            const member = Reflect.get(target, property, receiver);
            return typeof member === "function" ? member.bind(target) : member;
          },
        }),
    });
    t.server.enqueue(
      { kind: "reply", toolCalls: [{ id: "call_look", name: "test_lookup", input: { ip: IP } }] },
      {
        kind: "reply",
        toolCalls: [{ id: "call_look2", name: "test_lookup", input: { ip: "198.51.100.7" } }],
      },
      { kind: "reply", text: JSON.stringify({ verdict: "benign" }) },
    );
    const runId = await t.start();
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(failures).toBe(1);
    expect(done.status).toBe("succeeded");
    // Two calls in total, once each, although the first call's execution was interrupted after it ran.
    expect(t.counts.lookup).toBe(2);
    expect(t.keys).toEqual([`${runId}/assess/1/call/0/0`, `${runId}/assess/1/call/1/0`]);
    expect(t.server.requests).toHaveLength(3);
    // The record whose report failed is in the event log once, in order.
    expect(progressOf(done).map((p) => p.kind)).toEqual([
      "agent.start",
      "agent.model",
      "agent.tool",
      "agent.model",
      "agent.tool",
      "agent.model",
    ]);
    expect(done.steps.assess!.attempt).toBe(1);
  });

  it("a 429 mid-loop is retried by the step's policy with the provider's reason, key redacted; the retry resumes without repeating the tool call", async () => {
    const t = await setUp();
    t.server.enqueue(
      { kind: "reply", toolCalls: [{ id: "call_look", name: "test_lookup", input: { ip: IP } }] },
      {
        kind: "error",
        status: 429,
        body: openAiErrorBody("Rate limit reached for key sk-test-agent-loop-0001", "rate_limit_exceeded"),
      },
      { kind: "reply", text: JSON.stringify({ verdict: "malicious" }) },
    );
    const runId = await t.start();
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.steps.assess!.attempt).toBe(2);
    expect(t.counts.lookup).toBe(1);
    expect(t.server.requests).toHaveLength(3);
    const failed = done.events.items.find((item) => item.event.type === "step.failed")!.event;
    expect(failed.error).toMatchObject({
      code: "model.rate_limited",
      retryable: true,
      details: { status: 429 },
    });
    const message = (failed.error as { message: string }).message;
    expect(message).toContain("Rate limit reached for key <redacted>");
    expect(JSON.stringify(done)).not.toContain("sk-test-agent-loop-0001");
    // The retried attempt continued the same conversation: its request has the first call's result.
    expect(JSON.parse(toolMessage(t.server.requests[2]!.body, "call_look")!.content)).toEqual({
      ip: IP,
      score: 91,
    });
    expect(done.steps.assess!.progress).toMatchObject({ rounds: 2, toolCalls: 1 });
  });
});
