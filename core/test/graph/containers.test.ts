import { describe, expect, it } from "vitest";
import { StepFailure } from "../../src/graph/errors.js";
import type { RunState } from "../../src/graph/types.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { compile, Harness, recordingTool, statuses, T0 } from "./harness.js";

describe("parallel", () => {
  it("runs one flow per branch and collects the flow outputs in branch order", async () => {
    const graph = compile({
      steps: [
        {
          id: "p",
          type: "parallel",
          branches: [
            {
              steps: [
                { id: "a1", type: "set", values: { v: "a1" } },
                { id: "a2", type: "set", values: { v: "a2" } },
              ],
            },
            { steps: [{ id: "b1", type: "set", values: { v: "b1" } }] },
          ],
        },
        { id: "after", type: "set", values: { all: "{% steps.p.output.v %}", a: "{% steps.a2.output.v %}" } },
      ],
    });
    const h = new Harness(graph);
    h.start();
    const state = await h.drain();
    expect(state.steps.p).toMatchObject({ status: "succeeded", output: [{ v: "a2" }, { v: "b1" }] });
    expect(state.output).toEqual({ all: ["a2", "b1"], a: "a2" });
    // both branches were dispatched by the one event that fanned out
    const fanout = h.decisions.find((d) => d.state.steps.p?.suspended === "fanout" && d.state.steps.a1);
    expect(fanout?.commands.map((c) => c.type === "execute" && c.key)).toEqual(["a1", "b1"]);
  });

  it("a failing branch cancels the others and fails the container, which can route to onError", async () => {
    const tools = new ToolRegistry([
      recordingTool("test.fail", async () => {
        throw new StepFailure("nope", { code: "bad", retryable: false });
      }),
      recordingTool("test.ok", async () => "ok"),
    ]);
    const graph = compile(
      {
        steps: [
          {
            id: "p",
            type: "parallel",
            onError: "handle",
            branches: [
              { steps: [{ id: "slow", type: "tool", tool: "test.ok" }] },
              { steps: [{ id: "bad", type: "tool", tool: "test.fail" }] },
            ],
          },
          { id: "unreached", type: "set", values: {}, end: true },
          { id: "handle", type: "set", values: { err: "{% steps.p.error.code %}" } },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    await h.drainInline(); // runs p, fans out
    const slow = h.queue.find((c) => c.key === "slow")!;
    const bad = h.queue.find((c) => c.key === "bad")!;
    h.queue.length = 0;
    h.apply(await h.execute(bad));
    expect(statuses(h.state)).toMatchObject({
      p: "failed",
      slow: "cancelled",
      bad: "failed",
      handle: "queued",
    });
    expect(h.state.steps.p!.error).toMatchObject({
      code: "bad",
      message: 'step "bad" failed: nope',
      retryable: false,
    });
    const late = await h.execute(slow);
    expect(h.graph.advance(h.state, late).accepted).toBe(false);
    const state = await h.drain();
    expect(state.status).toBe("succeeded");
    expect(state.output).toEqual({ err: "bad" });
    expect(state.steps.unreached).toBeUndefined();
  });
});

describe("map", () => {
  it("runs at most `concurrency` iterations at once, starts the next as one finishes, keeps item order", async () => {
    const tools = new ToolRegistry([recordingTool("test.double", async (input) => (input.n as number) * 2)]);
    const graph = compile(
      {
        steps: [
          {
            id: "m",
            type: "map",
            items: "input.list",
            concurrency: 2,
            steps: [
              { id: "calc", type: "tool", tool: "test.double", with: { n: "{% item %}" } },
              { id: "tag", type: "set", values: { i: "{% index %}", v: "{% steps.calc.output %}" } },
            ],
          },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start({ list: [5, 1, 4, 2, 3] });
    let maxActive = 0;
    // finish iterations in a shuffled order to show results still land by index
    for (let guard = 0; guard < 100 && h.queue.length > 0; guard++) {
      const pick = h.queue.length > 1 && guard % 2 === 0 ? h.queue.length - 1 : 0;
      const [command] = h.queue.splice(pick, 1);
      h.apply(await h.execute(command!));
      maxActive = Math.max(maxActive, activeIterations(h.state, "m"));
      const fanout = h.state.steps.m?.fanout;
      if (fanout && h.state.steps.m!.status === "running") expect(fanout.running).toBeLessThanOrEqual(2);
    }
    expect(maxActive).toBe(2);
    expect(h.state.status).toBe("succeeded");
    expect(h.state.output).toEqual([
      { i: 0, v: 10 },
      { i: 1, v: 2 },
      { i: 2, v: 8 },
      { i: 3, v: 4 },
      { i: 4, v: 6 },
    ]);
    expect(Object.keys(h.state.steps).filter((k) => k.endsWith("/calc"))).toHaveLength(5);
    expect(h.state.steps["m[3]/calc"]).toMatchObject({ status: "succeeded", output: 4 });
  });

  it("succeeds at once with [] for no items, and fails clearly for a non-array", async () => {
    const empty = new Harness(
      compile({
        steps: [{ id: "m", type: "map", items: "input.none", steps: [{ id: "x", type: "set", values: {} }] }],
      }),
    );
    empty.start({});
    expect((await empty.drain()).output).toEqual([]);

    const bad = new Harness(
      compile({
        steps: [{ id: "m", type: "map", items: "input.obj", steps: [{ id: "x", type: "set", values: {} }] }],
      }),
    );
    bad.start({ obj: { a: 1 } });
    const state = await bad.drain();
    expect(state.status).toBe("failed");
    expect(state.steps.m!.error).toMatchObject({ code: "validation", retryable: false });
    expect(state.steps.m!.error!.message).toContain("not an array");
    expect(state.steps.m!.error!.message).toContain("wrap it in [ ]");
  });

  it("a failing iteration cancels the running ones and stops starting new ones", async () => {
    const tools = new ToolRegistry([
      recordingTool("test.maybe", async (input) => {
        if (input.n === 2) throw new StepFailure("two", { code: "bad", retryable: false });
        return input.n;
      }),
    ]);
    const graph = compile(
      {
        steps: [
          {
            id: "m",
            type: "map",
            items: "[1,2,3,4,5]",
            concurrency: 3,
            steps: [{ id: "t", type: "tool", tool: "test.maybe", with: { n: "{% item %}" } }],
          },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    await h.drainInline(); // evaluates the map; iterations 0..2 queued
    const second = h.queue.find((c) => c.key === "m[1]/t")!;
    h.queue.length = 0;
    h.apply(await h.execute(second));
    expect(statuses(h.state)).toEqual({
      m: "failed",
      "m[0]/t": "cancelled",
      "m[1]/t": "failed",
      "m[2]/t": "cancelled",
    });
    expect(h.state.status).toBe("failed");
    expect(h.state.error).toMatchObject({ code: "bad", details: { key: "m[1]/t" } });
  });

  it("nested: a map inside a parallel branch, and a map inside a map, compose keys and scopes", async () => {
    const graph = compile({
      steps: [
        { id: "seed", type: "set", values: { base: 100 } },
        {
          id: "p",
          type: "parallel",
          branches: [
            {
              steps: [
                {
                  id: "outer",
                  type: "map",
                  items: "input.rows",
                  steps: [
                    { id: "row", type: "set", values: { r: "{% index %}" } },
                    {
                      id: "inner",
                      type: "map",
                      items: "item",
                      steps: [
                        {
                          id: "cell",
                          type: "set",
                          values: { v: "{% steps.seed.output.base + steps.row.output.r * 10 + item %}" },
                        },
                      ],
                    },
                  ],
                },
              ],
            },
            { steps: [{ id: "other", type: "set", values: { o: 1 } }] },
          ],
        },
      ],
    });
    const h = new Harness(graph);
    h.start({ rows: [[1, 2], [3]] });
    const state = await h.drain();
    expect(state.status).toBe("succeeded");
    expect(state.steps["outer[1]/inner[0]/cell"]).toMatchObject({ output: { v: 113 } });
    expect(state.steps.p!.output).toEqual([[[{ v: 101 }, { v: 102 }], [{ v: 113 }]], { o: 1 }]);
    expect(h.graph.scope(state, "outer[1]/inner[0]/cell")).toMatchObject({ item: 3, index: 0 });
  });
});

describe("approvals", () => {
  const approvalPlan = (onReject?: string) =>
    compile({
      steps: [
        {
          id: "ask",
          type: "approval",
          approvers: ["role:responder"],
          message: "Contain {% input.host %}?",
          ...(onReject ? { onReject } : {}),
        },
        { id: "act", type: "set", values: { approvedBy: "{% steps.ask.output.by %}" }, end: true },
        { id: "declined", type: "set", values: { declined: true } },
      ],
    });

  it("waits for a decision, then continues with the approval as output", async () => {
    const h = new Harness(approvalPlan("declined"));
    h.start({ host: "web-1" });
    await h.drain();
    expect(h.state.status).toBe("waiting");
    expect(h.state.steps.ask).toMatchObject({ status: "waiting_approval" });
    expect(h.ofType("request_approval")).toEqual([
      {
        type: "request_approval",
        runId: "run-1",
        key: "ask",
        request: { approvers: ["role:responder"], message: "Contain web-1?" },
      },
    ]);
    const granted = h.apply({
      type: "approval.granted",
      key: "ask",
      by: "user:ann",
      rationale: "ok",
      at: T0 + 9,
    });
    expect(granted.state.steps.ask).toMatchObject({
      status: "approved",
      output: { approved: true, by: "user:ann", rationale: "ok", at: T0 + 9 },
    });
    expect(
      h.graph.advance(h.state, { type: "approval.denied", key: "ask", by: "user:bob", at: T0 }).accepted,
    ).toBe(false);
    expect((await h.drain()).output).toEqual({ approvedBy: "user:ann" });
  });

  it("a denial goes to onReject", async () => {
    const h = new Harness(approvalPlan("declined"));
    h.start({ host: "x" });
    await h.drain();
    h.apply({ type: "approval.denied", key: "ask", by: "user:bob", at: T0 });
    const state = await h.drain();
    expect(state.steps.ask).toMatchObject({
      status: "rejected",
      output: { approved: false, by: "user:bob" },
    });
    expect(state.output).toEqual({ declined: true });
  });

  it("a denial without onReject fails the run with approval_rejected", async () => {
    const h = new Harness(
      compile({
        steps: [
          { id: "ask", type: "approval" },
          { id: "act", type: "set", values: {} },
        ],
      }),
    );
    h.start();
    await h.drain();
    const d = h.apply({ type: "approval.denied", key: "ask", by: "user:bob", rationale: "no", at: T0 });
    expect(d.state.status).toBe("failed");
    expect(d.state.error).toMatchObject({
      code: "approval_rejected",
      message: 'approval "ask" was rejected by user:bob: no',
    });
  });
});

describe("wait", () => {
  it("a duration arms a timer; its firing completes the step with firedAt", async () => {
    const h = new Harness(
      compile({
        steps: [
          { id: "pause", type: "wait", duration: "5m" },
          { id: "next", type: "set", values: { at: "{% steps.pause.output.firedAt %}" } },
        ],
      }),
    );
    h.start();
    await h.drain();
    expect(h.state).toMatchObject({ status: "waiting" });
    expect(h.state.steps.pause).toMatchObject({
      status: "running",
      suspended: "timer",
      waitUntil: T0 + 300_000,
    });
    expect([...h.timers]).toEqual([["wait:pause:1", T0 + 300_000]]);
    h.now = T0 + 300_001;
    h.fire("wait:pause:1");
    expect(h.fire("wait:pause:1").accepted).toBe(false);
    expect((await h.drain()).output).toEqual({ at: T0 + 300_001 });
  });

  it("until accepts ISO strings and epoch ms, and rejects anything else clearly", async () => {
    const run = async (until: unknown) => {
      const h = new Harness(compile({ steps: [{ id: "w", type: "wait", until: "input.until" }] }));
      h.start({ until });
      await h.drain();
      return h;
    };
    expect((await run("2026-02-01T00:00:00Z")).state.steps.w!.waitUntil).toBe(Date.UTC(2026, 1, 1));
    expect((await run(T0 + 5)).state.steps.w!.waitUntil).toBe(T0 + 5);
    const bad = await run("next tuesday");
    expect(bad.state.status).toBe("failed");
    expect(bad.state.steps.w!.error).toMatchObject({ code: "validation", retryable: false });
    expect(bad.state.steps.w!.error!.message).toContain('until gave "next tuesday"');
  });
});

describe("child runs", () => {
  it("starts a child run with a deterministic id and completes with its result", async () => {
    const h = new Harness(
      compile({
        steps: [{ id: "sub", type: "plan", plan: "other.plan", version: 2, input: { q: "{% input.q %}" } }],
      }),
    );
    h.start({ q: "hi" });
    await h.drain();
    expect(h.ofType("start_child_run")).toEqual([
      {
        type: "start_child_run",
        runId: "run-1",
        key: "sub",
        attempt: 1,
        childRunId: "run-1~sub~1",
        planId: "other.plan",
        version: 2,
        input: { q: "hi" },
      },
    ]);
    expect(h.state.steps.sub).toMatchObject({
      status: "running",
      suspended: "child_run",
      childRunId: "run-1~sub~1",
    });
    expect(h.state.status).toBe("running");
    expect(h.graph.pendingCommands(h.state)).toEqual(h.ofType("start_child_run"));
    const done = h.apply({ type: "step.succeeded", key: "sub", attempt: 1, output: { answer: 42 }, at: T0 });
    expect(done.state.output).toEqual({ answer: 42 });
  });

  it("a failed child run fails the step (and retries it with a new child id when allowed)", () => {
    const h = new Harness(
      compile({ steps: [{ id: "sub", type: "plan", plan: "other.plan", retry: { max: 1, initial: 0 } }] }),
    );
    h.start();
    h.apply({
      type: "step.suspended",
      key: "sub",
      attempt: 1,
      suspension: { kind: "child_run", planId: "other.plan", input: {} },
      at: T0,
    });
    const failed = h.apply({
      type: "step.failed",
      key: "sub",
      attempt: 1,
      error: { message: "child broke" },
      at: T0,
    });
    expect(failed.state.steps.sub).toMatchObject({ status: "retrying", attempt: 2 });
    h.apply({
      type: "step.suspended",
      key: "sub",
      attempt: 2,
      suspension: { kind: "child_run", planId: "other.plan", input: {} },
      at: T0,
    });
    expect(h.state.steps.sub!.childRunId).toBe("run-1~sub~2");
  });
});

describe("pendingCommands", () => {
  it("re-issues queued executes, armed timers and open approvals", async () => {
    const tools = new ToolRegistry([recordingTool("test.t", async () => 1)]);
    const graph = compile(
      {
        steps: [
          {
            id: "p",
            type: "parallel",
            branches: [
              { steps: [{ id: "t", type: "tool", tool: "test.t", timeout: "1m" }] },
              { steps: [{ id: "w", type: "wait", duration: "1h" }] },
              { steps: [{ id: "a", type: "approval" }] },
            ],
          },
        ],
      },
      { tools },
    );
    const h = new Harness(graph);
    h.start();
    await h.drainInline();
    const pending = graph.pendingCommands(h.state);
    expect(pending).toEqual([
      {
        type: "execute",
        runId: "run-1",
        key: "t",
        stepId: "t",
        attempt: 1,
        inline: false,
        dedupeId: "run-1/t/1",
      },
      { type: "schedule_timer", runId: "run-1", timerId: "timeout:t:1", at: T0 + 60_000 },
      { type: "schedule_timer", runId: "run-1", timerId: "wait:w:1", at: T0 + 3_600_000 },
      { type: "request_approval", runId: "run-1", key: "a", request: { approvers: [] } },
    ]);
  });
});

function activeIterations(state: RunState, mapKey: string): number {
  const active = new Set<string>();
  for (const [key, step] of Object.entries(state.steps)) {
    if (!key.startsWith(`${mapKey}[`)) continue;
    if (step.status === "queued" || step.status === "running" || step.status === "retrying") {
      active.add(key.slice(0, key.indexOf("/")));
    }
  }
  return active.size;
}
