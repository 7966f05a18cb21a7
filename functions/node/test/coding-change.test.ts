import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CART_CLAMP_DIFF, writeGitRepository } from "@aat/coding/testing";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CodingClient, SHOP_FILES, startCoding } from "./coding-support.js";
import { tempDir } from "./support.js";

/*
 * The coding.change plan from question to applied diff: the Node runtime with an openai-compatible
 * model alias pointing at the scripted LLM server. The model searches and reads the code (real
 * code.search / code.read over the index), proposes a patch, answers with it; the plan checks it
 * again and its code.apply_patch step waits for approval, which the test gives through
 * POST /v1/coding/runs/{id}/diffs/{diffId}/apply. The commit lands on a new branch (checked with git);
 * the checked-out branch and the working tree are untouched. A patch reaching outside the repository
 * is refused before anything waits for approval.
 */

let llm: ScriptedLlmServer;
let t: CodingClient;
let repo: string;
let extraPlans: string;

/** An agent allowed to apply patches itself: its code.apply_patch call waits for approval inside the step. */
const AGENT_PLAN = `
id: test.coding-agent
workflow: coding
title: An agent that applies its own patch
capabilities: [repo.read, repo.write]
triggers: [{ type: manual }]
steps:
  - id: edit
    type: agent
    prompt: "{% input.prompt %}"
    tools: [code.read, code.apply_patch]
    maxRounds: 4
`;
const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });

const DIFF = CART_CLAMP_DIFF;

beforeAll(async () => {
  llm = await ScriptedLlmServer.start();
  extraPlans = await tempDir("coding-plans");
  await mkdir(extraPlans, { recursive: true });
  await writeFile(join(extraPlans, "agent.yaml"), AGENT_PLAN);
  t = await startCoding({
    plans: [extraPlans],
    models: {
      default: "coder",
      providers: {
        coder: {
          provider: "openai-compatible",
          model: "scripted-coder",
          baseUrl: llm.openAiBaseUrl,
          apiKey: "sk-coding-test-key-123456",
        },
      },
    },
  });
  repo = join(t.root, "shop");
  await writeGitRepository(repo, SHOP_FILES);
  const added = await t.call("POST", "/v1/coding/repositories", {
    id: "shop",
    source: { kind: "local", path: "shop" },
  });
  expect(added.status).toBe(201);
  await t.indexed("shop");
});
afterAll(async () => {
  await t?.stop();
  await llm?.close();
  if (extraPlans) await rm(extraPlans, { recursive: true, force: true });
});

/** The JSON the tool sent back to the model for a call, from the next request's messages. */
function toolResult(callId: string): unknown {
  for (const request of llm.requests) {
    const messages = (
      request.body as { messages: Array<{ role: string; tool_call_id?: string; content: string }> }
    ).messages;
    const found = messages.find((m) => m.role === "tool" && m.tool_call_id === callId);
    if (found) return JSON.parse(found.content);
  }
  return undefined;
}

describe("coding.change through the scripted model", () => {
  it("search, read, propose, wait for approval, apply on a new branch", async () => {
    llm.enqueue(
      {
        kind: "reply",
        toolCalls: [{ id: "c1", name: "code_search", input: { repo: "shop", query: "cart total" } }],
      },
      {
        kind: "reply",
        toolCalls: [
          { id: "c2", name: "code_read", input: { repo: "shop", path: "src/cart.ts", startLine: 7 } },
        ],
      },
      {
        kind: "reply",
        toolCalls: [{ id: "c3", name: "code_propose_patch", input: { repo: "shop", diff: DIFF } }],
      },
      { kind: "reply", text: JSON.stringify({ summary: "Clamp the cart total at zero.", diff: DIFF }) },
    );
    const headBefore = git("rev-parse", "HEAD").trim();
    const started = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "change",
      prompt: "Returns must never make the cart total negative.",
    });
    expect(started.status).toBe(202);
    expect(started.json.offline).toBe(false);
    const runId = started.json.runId as string;

    const waiting = await t.until(runId, ["waiting", "failed", "succeeded"]);
    expect(waiting.status).toBe("waiting");
    expect(waiting.steps.apply.status).toBe("waiting_approval");
    // The tools really ran over the index and the files.
    expect((toolResult("c1") as { hits: Array<{ path: string }> }).hits[0]!.path).toBe("src/cart.ts");
    expect(toolResult("c2")).toMatchObject({
      path: "src/cart.ts",
      startLine: 7,
      endLine: 10,
      totalLines: 10,
    });
    expect(toolResult("c3")).toMatchObject({
      files: [{ path: "src/cart.ts", status: "modified", additions: 2, deletions: 1 }],
    });

    const diffs = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(diffs.status).toBe(200);
    expect(diffs.json.runStatus).toBe("waiting");
    expect(diffs.json.items).toEqual([
      {
        id: "apply",
        stepKey: "apply",
        origin: "tool_step",
        repo: "shop",
        status: "awaiting_approval",
        diff: DIFF,
      },
    ]);
    // Nothing is written before the approval.
    expect(git("branch", "--list").trim()).toBe("* main");

    const applied = await t.call("POST", `/v1/coding/runs/${runId}/diffs/apply/apply`, {
      rationale: "looks right",
    });
    expect(applied.status).toBe(200);
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({
      mode: "model",
      status: "applied",
      summary: "Clamp the cart total at zero.",
      files: [{ path: "src/cart.ts", status: "modified", additions: 2, deletions: 1 }],
    });
    const branch = done.output.branch as string;
    expect(branch).toMatch(/^aat\/patch-[0-9a-f]{8}$/);

    // git: a new branch with one commit on top of main; main and the working tree unchanged.
    expect(git("rev-parse", "main").trim()).toBe(headBefore);
    expect(git("rev-parse", `${branch}^`).trim()).toBe(headBefore);
    expect(git("rev-parse", branch).trim()).toBe(done.output.commit);
    expect(git("show", `${branch}:src/cart.ts`)).toContain("return Math.max(0, items.reduce(");
    expect(git("log", "-1", "--format=%s", branch).trim()).toBe("aat: Clamp the cart total at zero.");
    expect(await readFile(join(repo, "src/cart.ts"), "utf8")).toBe(SHOP_FILES["src/cart.ts"]);
    expect(git("status", "--porcelain").trim()).toBe("");

    const after = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(after.json.items).toEqual([
      expect.objectContaining({
        id: "apply",
        status: "applied",
        applied: expect.objectContaining({ branch, commit: done.output.commit, base: headBefore }),
        decision: expect.objectContaining({ approved: true, rationale: "looks right" }),
      }),
    ]);
    const again = await t.call("POST", `/v1/coding/runs/${runId}/diffs/apply/apply`, {});
    expect(again.status).toBe(409);
    expect(again.json.currentStatus).toBe("applied");
  });

  it("a rejected diff is not applied and the run says so", async () => {
    llm.enqueue({ kind: "reply", text: JSON.stringify({ summary: "Clamp again.", diff: DIFF }) });
    const branches = git("branch", "--list");
    const started = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "change",
      prompt: "clamp",
    });
    const runId = started.json.runId as string;
    await t.until(runId, ["waiting"]);
    const rejected = await t.call("POST", `/v1/coding/runs/${runId}/diffs/apply/reject`, {
      rationale: "not now",
    });
    expect(rejected.status).toBe(200);
    const done = await t.until(runId, ["succeeded", "failed"]);
    expect(done.output).toMatchObject({ status: "rejected" });
    expect(done.output.summary).toMatch(/^The change was not applied: /);
    expect(git("branch", "--list")).toBe(branches);
    const diffs = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(diffs.json.items).toEqual([
      expect.objectContaining({
        id: "apply",
        status: "rejected",
        decision: expect.objectContaining({ approved: false }),
      }),
    ]);
  });

  it("a patch touching a path outside the repository is refused before any approval", async () => {
    const escaping = ["--- a/../outside.txt", "+++ b/../outside.txt", "@@ -0,0 +1 @@", "+pwned", ""].join(
      "\n",
    );
    llm.enqueue(
      {
        kind: "reply",
        toolCalls: [{ id: "e1", name: "code_propose_patch", input: { repo: "shop", diff: escaping } }],
      },
      { kind: "reply", text: JSON.stringify({ summary: "Write outside.", diff: escaping }) },
    );
    const branches = git("branch", "--list");
    const started = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "change",
      prompt: "escape",
    });
    const runId = started.json.runId as string;
    const done = await t.until(runId, ["succeeded", "failed", "waiting"]);
    expect(done.status).toBe("succeeded");
    expect(done.output.status).toBe("refused");
    expect(done.output.summary).toContain("The proposed diff was refused and nothing was written");
    expect(done.output.summary).toContain('contains ".."');
    expect(done.steps.apply).toBeUndefined();
    // The model's own check was refused too, with the reason it was given.
    expect(toolResult("e1")).toMatchObject({ code: "path_outside_workspace" });
    expect(git("branch", "--list")).toBe(branches);
    await expect(readFile(join(t.root, "outside.txt"), "utf8")).rejects.toThrow(/ENOENT/);
    const diffs = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(diffs.json.items).toEqual([]);
  });

  it("an agent's own code.apply_patch call is listed awaiting approval, applied through the API, then listed applied", async () => {
    const diff = DIFF.replace("Negative quantities (returns)", "Returns (negative quantities)");
    llm.enqueue(
      { kind: "reply", toolCalls: [{ id: "a1", name: "code_apply_patch", input: { repo: "shop", diff } }] },
      { kind: "reply", text: "Applied." },
    );
    const started = await t.call("POST", "/v1/runs", {
      planId: "test.coding-agent",
      input: { prompt: "clamp" },
    });
    expect(started.status).toBe(202);
    const runId = started.json.runId as string;
    await t.until(runId, ["waiting"]);
    const waiting = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(waiting.json.items).toEqual([
      {
        id: "edit#a1",
        stepKey: "edit",
        origin: "agent_call",
        callId: "a1",
        repo: "shop",
        status: "awaiting_approval",
        diff,
      },
    ]);
    const applied = await t.call(
      "POST",
      `/v1/coding/runs/${runId}/diffs/${encodeURIComponent("edit#a1")}/apply`,
      {},
    );
    expect(applied.status).toBe(200);
    expect((await t.until(runId, ["succeeded", "failed"])).status).toBe("succeeded");
    const after = await t.call("GET", `/v1/coding/runs/${runId}/diffs`);
    expect(after.json.items).toEqual([
      expect.objectContaining({
        id: "edit#a1",
        status: "applied",
        decision: expect.objectContaining({ approved: true }),
      }),
    ]);
    const branch = after.json.items[0].applied.branch as string;
    expect(git("show", `${branch}:src/cart.ts`)).toContain("// Returns (negative quantities)");
  });

  it("explain answers with the model's citations; fix-test proposes a checked diff without applying it", async () => {
    llm.enqueue(
      {
        kind: "reply",
        toolCalls: [{ id: "x1", name: "code_symbols", input: { repo: "shop", name: "cartTotal" } }],
      },
      {
        kind: "reply",
        text: JSON.stringify({
          answer: "cartTotal sums price times quantity over the items [1].",
          citations: [{ path: "src/cart.ts", startLine: 8, endLine: 10, note: "the reduce" }],
        }),
      },
    );
    const explain = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "explain",
      prompt: "cart total?",
    });
    const explained = await t.until(explain.json.runId, ["succeeded", "failed"]);
    expect(explained.output).toEqual({
      mode: "model",
      answer: "cartTotal sums price times quantity over the items [1].",
      citations: [{ path: "src/cart.ts", startLine: 8, endLine: 10, note: "the reduce" }],
    });
    expect(toolResult("x1")).toMatchObject({ symbols: [{ path: "src/cart.ts", name: "cartTotal" }] });

    llm.enqueue({
      kind: "reply",
      text: JSON.stringify({
        cause: "Negative quantities make the total negative.",
        locations: [{ path: "src/cart.ts", line: 9 }],
        diff: DIFF,
      }),
    });
    const branches = git("branch", "--list");
    const fix = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "fix-test",
      prompt: "fix it",
      testOutput: "expected 0, received -300",
    });
    const fixed = await t.until(fix.json.runId, ["succeeded", "failed"]);
    expect(fixed.output).toMatchObject({
      mode: "model",
      status: "proposed",
      diff: DIFF,
      files: [{ path: "src/cart.ts", status: "modified" }],
    });
    expect(git("branch", "--list")).toBe(branches);
    const diffs = await t.call("GET", `/v1/coding/runs/${fix.json.runId}/diffs`);
    expect(diffs.json.items).toEqual([
      expect.objectContaining({ id: "propose", status: "proposed", diff: DIFF }),
    ]);
  });
});
