import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PlanCompileError } from "../../src/graph/errors.js";
import { runEventSchema } from "../../src/graph/events.js";
import { PlanFactory } from "../../src/graph/factory.js";
import { registerBuiltinHandlers } from "../../src/graph/handlers/index.js";
import type { RunEvent } from "../../src/graph/types.js";
import { ScriptedModel } from "../../src/testing/scripted-model.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";
import { compile, factory, Harness, plan, recordingTool, T0 } from "./harness.js";

const lookup: Tool<{ ip: string; count?: number }, { score: number }> = {
  name: "threatintel.ip",
  description: "IP reputation",
  input: z.object({ ip: z.string(), count: z.number().int().optional() }),
  output: z.object({ score: z.number() }),
  async run(input) {
    return { score: input.ip === "6.6.6.6" ? 90 : 1 };
  },
};

describe("ToolRegistry", () => {
  const registry = new ToolRegistry([
    lookup,
    recordingTool("threatintel.domain", async () => 1),
    recordingTool("alerts.search", async () => 1),
  ]);
  it("finds by name and by glob", () => {
    expect(registry.has("alerts.search")).toBe(true);
    expect(registry.get("nope")).toBeUndefined();
    expect(registry.names()).toEqual(["alerts.search", "threatintel.domain", "threatintel.ip"]);
    expect(registry.match("threatintel.*").map((t) => t.name)).toEqual([
      "threatintel.domain",
      "threatintel.ip",
    ]);
    expect(registry.match("alerts.search").map((t) => t.name)).toEqual(["alerts.search"]);
    expect(registry.match("*")).toHaveLength(3);
    expect(registry.match("threat.*")).toEqual([]);
    expect(registry.list().map((t) => t.name)).toEqual(registry.names());
  });
  it("rejects duplicates, bad names and bad globs with clear errors", () => {
    expect(() => registry.register(lookup)).toThrow('tool "threatintel.ip" is already registered');
    expect(() => registry.register({ ...lookup, name: "bad name" })).toThrow("invalid tool name");
    expect(() => registry.match("threat*.ip")).toThrow('invalid tool glob "threat*.ip"');
  });
});

describe("tool handler", () => {
  const services = () => ({ tools: new ToolRegistry([lookup]) });

  it("validates input, runs the tool with the step's idempotency key, validates output", async () => {
    const seen: string[] = [];
    const traced: typeof lookup = {
      ...lookup,
      async run(input, ctx) {
        seen.push(`${ctx.idempotencyKey} ${ctx.stepKey}`);
        return lookup.run(input, ctx);
      },
    };
    const tools = new ToolRegistry().register(traced);
    const h = new Harness(
      compile(
        { steps: [{ id: "rep", type: "tool", tool: "threatintel.ip", with: { ip: "{% input.ip %}" } }] },
        { tools },
      ),
    );
    h.start({ ip: "6.6.6.6" });
    expect((await h.drain()).output).toEqual({ score: 90 });
    expect(seen).toEqual(["run-1/rep/1 rep"]);
  });

  it("bad input fails without retry and names the field paths", async () => {
    const h = new Harness(
      compile(
        {
          steps: [
            { id: "rep", type: "tool", tool: "threatintel.ip", with: { count: 1.5 }, retry: { max: 3 } },
          ],
        },
        services(),
      ),
    );
    h.start();
    const state = await h.drain();
    expect(state.steps.rep).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { code: "validation", retryable: false },
    });
    const message = state.steps.rep!.error!.message;
    expect(message).toContain('tool "threatintel.ip" input is invalid');
    expect(message).toContain("ip:");
    expect(message).toContain("count:");
  });

  it("an invalid output is a non-retryable failure", async () => {
    const tools = new ToolRegistry([
      { ...lookup, run: async () => ({ score: "high" }) as unknown as { score: number } },
    ]);
    const h = new Harness(
      compile({ steps: [{ id: "rep", type: "tool", tool: "threatintel.ip", with: { ip: "1" } }] }, { tools }),
    );
    h.start();
    const state = await h.drain();
    expect(state.steps.rep!.error).toMatchObject({ code: "tool_output_invalid", retryable: false });
    expect(state.steps.rep!.error!.message).toContain("score:");
  });

  it("a tool slower than its timeoutMs fails with a retryable timeout and sees its signal aborted", async () => {
    let aborted = false;
    const tools = new ToolRegistry([
      {
        ...lookup,
        timeoutMs: 20,
        run: (_input, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener("abort", () => {
              aborted = true;
              resolve({ score: 0 });
            });
          }),
      },
    ]);
    const h = new Harness(
      compile({ steps: [{ id: "rep", type: "tool", tool: "threatintel.ip", with: { ip: "1" } }] }, { tools }),
    );
    h.start();
    const event = await h.execute(h.queue.shift()!);
    expect(event).toMatchObject({ type: "step.failed", error: { code: "timeout", retryable: true } });
    expect(aborted).toBe(true);
  });

  it("load-time checks report a missing registry and unknown tools with a hint", () => {
    const noRegistry = registerBuiltinHandlers(new PlanFactory());
    const problems = noRegistry.check(plan({ steps: [{ id: "t", type: "tool", tool: "threatintel.ip" }] }));
    expect(problems).toEqual([
      { path: ["steps", 0, "tool"], message: expect.stringContaining("services.tools") },
    ]);
    const withRegistry = factory(services());
    const unknown = withRegistry.check(plan({ steps: [{ id: "t", type: "tool", tool: "threatintel.iq" }] }));
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.path).toEqual(["steps", 0, "tool"]);
    expect(unknown[0]!.message).toContain('unknown tool "threatintel.iq"');
    expect(unknown[0]!.message).toContain('did you mean "threatintel.ip"');
  });
});

describe("agent handler", () => {
  const verdictPlan = {
    schemas: {
      Verdict: {
        type: "object",
        properties: { verdict: { type: "string", enum: ["benign", "malicious"] } },
        required: ["verdict"],
      },
    },
    steps: [
      {
        id: "assess",
        type: "agent" as const,
        model: "smart",
        system: "You triage alerts.",
        prompt: "Is {% input.ip %} bad?",
        tools: ["threatintel.*"],
        output: "Verdict",
      },
    ],
  };

  it("runs rounds: the model's tool calls are answered from allowed tools and its JSON answer is the output", async () => {
    const model = new ScriptedModel([
      { toolCalls: [{ id: "c1", name: "threatintel.ip", input: { ip: "6.6.6.6" } }] },
      (request) => {
        const results = request.messages.at(-1);
        const score =
          results?.role === "tool" && results.results[0]?.outcome.kind === "output"
            ? (results.results[0].outcome.output as { score: number }).score
            : 0;
        return { text: JSON.stringify({ verdict: score > 50 ? "malicious" : "benign" }) };
      },
    ]);
    const h = new Harness(compile(verdictPlan, { tools: new ToolRegistry([lookup]), model }));
    h.start({ ip: "6.6.6.6" });
    const state = await h.drain();
    expect(state.output).toEqual({ verdict: "malicious" });
    expect(model.calls).toHaveLength(2);
    expect(model.calls[0]).toMatchObject({
      model: "smart",
      system: "You triage alerts.",
      messages: [{ role: "user", text: "Is 6.6.6.6 bad?" }],
      outputSchema: verdictPlan.schemas.Verdict,
    });
    expect(model.calls[0]!.tools.map((t) => t.name)).toEqual(["threatintel.ip"]);
    expect(model.calls[0]!.tools[0]!.inputSchema).toMatchObject({ required: ["ip"] });
  });

  it("a bad tool input goes back to the model with its field paths, and a bad answer is repaired once", async () => {
    const model = new ScriptedModel([
      { toolCalls: [{ id: "c1", name: "threatintel.ip", input: { ip: 42 } }] },
      { text: '{"verdict":"maybe"}' },
      { text: '{"verdict":"still maybe"}' },
    ]);
    const h = new Harness(compile(verdictPlan, { tools: new ToolRegistry([lookup]), model }));
    h.start({ ip: "1.1.1.1" });
    const state = await h.drain();
    const toolMessage = model.calls[1]!.messages.at(-1);
    expect(toolMessage).toMatchObject({
      role: "tool",
      results: [
        { callId: "c1", outcome: { kind: "error", issues: [{ path: "ip", message: expect.any(String) }] } },
      ],
    });
    expect(model.calls[2]!.messages.at(-1)).toMatchObject({
      role: "user",
      text: expect.stringContaining("verdict:"),
    });
    expect(model.calls[2]!.tools).toEqual([]);
    expect(state.steps.assess!.error).toMatchObject({
      code: "agent_output_invalid",
      retryable: false,
      details: { issues: [{ path: "verdict" }] },
    });
  });

  it("reports a missing model service at load time", () => {
    const problems = factory({ tools: new ToolRegistry([lookup]) }).check(plan(verdictPlan));
    expect(problems).toEqual([
      { path: ["steps", 0, "type"], message: expect.stringContaining("services.model") },
    ]);
  });

  it("ScriptedModel says clearly when its script runs out", async () => {
    const model = new ScriptedModel([{ text: "one" }]);
    const request = { messages: [], tools: [], signal: new AbortController().signal };
    await expect(model.turn(request)).resolves.toMatchObject({ text: "one", toolCalls: [] });
    await expect(model.turn(request)).rejects.toThrow("no reply scripted for call 2");
  });
});

describe("branch handler", () => {
  const branchPlan = (extra: Record<string, unknown>) =>
    compile({
      steps: [
        {
          id: "decide",
          type: "branch",
          cases: [
            { when: "input.n > 10", next: "big" },
            { when: "{% input.n > 5 %}", next: "medium" },
            { when: "input.n < 0", next: "small" },
          ],
          ...extra,
        },
        { id: "fallthrough", type: "set", values: { to: "fallthrough" }, end: true },
        { id: "big", type: "set", values: { to: "big" }, end: true },
        { id: "medium", type: "set", values: { to: "medium" }, end: true },
        { id: "small", type: "set", values: { to: "small" }, end: true },
      ],
    });

  it.each([
    [20, {}, { case: 0, next: "big" }, "big"],
    [7, {}, { case: 1, next: "medium" }, "medium"],
    [1, { default: "small" }, { case: null, next: "small" }, "small"],
    [1, {}, { case: null, next: "fallthrough" }, "fallthrough"],
  ])("n=%s %o → %o", async (n, extra, output, to) => {
    const h = new Harness(branchPlan(extra));
    h.start({ n });
    const state = await h.drain();
    expect(state.steps.decide!.output).toEqual(output);
    expect(state.output).toEqual({ to });
  });
});

describe("executeStep", () => {
  it("turns expression errors into non-retryable failures naming the field, and never throws", async () => {
    const h = new Harness(
      compile({
        steps: [{ id: "a", type: "set", values: { x: "{% $number('abc') + 'a' %}" }, retry: { max: 2 } }],
      }),
    );
    h.start();
    const event = await h.execute(h.queue.shift()!);
    expect(event).toMatchObject({
      type: "step.failed",
      key: "a",
      attempt: 1,
      error: { code: "expression", retryable: false },
    });
    expect(event.type === "step.failed" && event.error.message).toContain('field "values"');
  });

  it("an error in `if` fails the step", async () => {
    const h = new Harness(compile({ steps: [{ id: "a", type: "set", values: {}, if: "$foo()" }] }));
    h.start();
    expect(await h.execute(h.queue.shift()!)).toMatchObject({
      type: "step.failed",
      error: { code: "expression" },
    });
  });

  it("uses JSONata truthiness for if: empty arrays and strings are false", async () => {
    for (const [value, status] of [
      [[], "skipped"],
      ["", "skipped"],
      [{}, "skipped"],
      [[0, 1], "succeeded"],
      ["x", "succeeded"],
    ] as const) {
      const h = new Harness(compile({ steps: [{ id: "a", type: "set", values: {}, if: "input.v" }] }));
      h.start({ v: value });
      expect((await h.drain()).steps.a!.status).toBe(status);
    }
  });

  it("reports an unknown step id as a non-retryable failure", async () => {
    const h = new Harness(compile({ steps: [{ id: "a", type: "set", values: {} }] }));
    h.start();
    const event = await h.execute({ ...h.queue[0]!, stepId: "ghost" });
    expect(event).toMatchObject({ type: "step.failed", error: { code: "unknown_step", retryable: false } });
  });

  it("gives handlers the clock, the plan and their successor", async () => {
    let seen: unknown;
    const f = factory().registerHandler("set", {
      pure: true,
      async execute(_step, ctx) {
        seen = {
          now: ctx.now(),
          plan: ctx.plan.id,
          successor: ctx.successor ?? null,
          key: ctx.idempotencyKey,
        };
        return { kind: "done", output: null };
      },
    });
    const h = new Harness(
      f.compile(
        plan({
          steps: [
            { id: "a", type: "set", values: {} },
            { id: "b", type: "set", values: {} },
          ],
        }),
      ),
    );
    h.now = T0 + 42;
    h.start();
    await h.execute(h.queue.shift()!);
    expect(seen).toEqual({ now: T0 + 42, plan: "test.plan", successor: "b", key: "run-1/a/1" });
  });
});

describe("PlanFactory", () => {
  it("registerHandler is the only way to give a node type behaviour", () => {
    const f = new PlanFactory();
    expect(f.hasHandler("set")).toBe(false);
    const problems = f.check(plan({ steps: [{ id: "a", type: "set", values: {} }] }));
    expect(problems).toEqual([
      { path: ["steps", 0, "type"], message: expect.stringContaining('registerHandler("set"') },
    ]);
    expect(() => f.compile(plan({ steps: [{ id: "a", type: "set", values: {} }] }))).toThrow(
      PlanCompileError,
    );
    expect(() =>
      f.registerHandler("magic", { pure: true, execute: async () => ({ kind: "done", output: 1 }) }),
    ).toThrow('cannot register a handler for "magic"');
  });

  it("compile lists every problem with its path, including handler validation", () => {
    const f = factory();
    try {
      f.compile(
        plan({
          steps: [
            { id: "a", type: "set", values: { x: "{% 1 + %}" }, next: "nowhere" },
            { id: "b", type: "tool", tool: "not.there" },
          ],
        }),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlanCompileError);
      const paths = (error as PlanCompileError).problems.map((p) => p.path.join("."));
      expect(paths).toEqual(expect.arrayContaining(["steps.0.values.x", "steps.0.next", "steps.1.tool"]));
      expect((error as PlanCompileError).message).toContain("steps[1].tool");
    }
  });

  it("compiles every expression field once, keyed by field path", () => {
    const graph = compile({
      steps: [
        {
          id: "b",
          type: "branch",
          if: "true",
          cases: [
            { when: "true", next: "c" },
            { when: "false", next: "c" },
          ],
        },
        {
          id: "c",
          type: "map",
          items: "[1]",
          steps: [{ id: "d", type: "set", values: { v: "{% item %}" } }],
        },
      ],
      outputs: "{% steps.c.output %}",
    });
    expect([...graph.step("b").fields.keys()]).toEqual(["if", "cases.0.when", "cases.1.when"]);
    expect([...graph.step("c").fields.keys()]).toEqual(["items"]);
    expect(graph.step("c").iterationSteps).toEqual(["d"]);
    expect(graph.step("d")).toMatchObject({ scope: "c", flow: "c#0" });
    expect([...graph.step("$output").fields.keys()]).toEqual(["outputs"]);
    expect(graph.rootScopeSteps).toEqual(["b", "c"]);
  });
});

describe("scope", () => {
  it("is the run's own steps record at the top level (no copy)", async () => {
    const h = new Harness(
      compile({
        steps: [
          { id: "a", type: "set", values: { x: 1 } },
          { id: "b", type: "set", values: {} },
        ],
      }),
    );
    h.start({ i: 1 });
    await h.drain();
    const scope = h.graph.scope(h.state, "b");
    expect(scope.steps).toBe(h.state.steps);
    expect(scope).toMatchObject({
      input: { i: 1 },
      run: { id: "run-1", planId: "test.plan", planVersion: 1, workflow: "automation" },
    });
  });

  it("inside an iteration, the iteration's steps shadow top-level ones by id", async () => {
    const h = new Harness(
      compile({
        steps: [
          { id: "top", type: "set", values: { t: 1 } },
          {
            id: "m",
            type: "map",
            items: "['a','b']",
            steps: [
              { id: "x", type: "set", values: { me: "{% item %}" } },
              {
                id: "y",
                type: "set",
                values: { sees: "{% steps.x.output.me %}", top: "{% steps.top.output.t %}" },
              },
            ],
          },
        ],
      }),
    );
    h.start();
    const state = await h.drain();
    expect(state.output).toEqual([
      { sees: "a", top: 1 },
      { sees: "b", top: 1 },
    ]);
    const scope = h.graph.scope(state, "m[1]/y");
    expect(Object.keys(scope.steps).sort()).toEqual(["m", "top", "x", "y"]);
    expect(scope.steps.x!.output).toEqual({ me: "b" });
    expect(scope).toMatchObject({ item: "b", index: 1 });
  });
});

describe("runEventSchema", () => {
  it("accepts every event the executor and decider tests produce, and names what is wrong otherwise", async () => {
    const h = new Harness(
      compile({
        steps: [
          { id: "a", type: "set", values: { x: 1 } },
          { id: "w", type: "wait", duration: 5 },
        ],
      }),
    );
    h.start();
    const events = [await h.execute(h.queue[0]!)];
    await h.drain();
    events.push(await h.execute({ ...h.ofType("execute")[1]! }));
    for (const event of events) expect(runEventSchema.parse(event)).toEqual(event);
    const bad = runEventSchema.safeParse({ type: "step.failed", key: "a", attempt: 0, at: T0 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join("."))).toEqual(
      expect.arrayContaining(["attempt", "error"]),
    );
  });

  it("the decider fails a step whose suspension is malformed instead of throwing", () => {
    const h = new Harness(compile({ steps: [{ id: "a", type: "set", values: {} }] }));
    h.start();
    const d = h.apply({ type: "step.suspended", key: "a", attempt: 1, at: T0 } as unknown as RunEvent);
    expect(d.state.steps.a).toMatchObject({ status: "failed", error: { code: "invalid_suspension" } });
  });
});
