import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkPlan,
  formatPlanError,
  loadPlanFile,
  type PlanDefinition,
  planDefinition,
} from "../../src/index.js";
import { allNodeTypes, tools } from "./support.js";

/** Schema-valid plan (the schema only: the checks under test run separately). */
function definition(steps: unknown[], extra: Record<string, unknown> = {}): PlanDefinition {
  return planDefinition.parse({ id: "t.plan", workflow: "automation", title: "t", steps, ...extra });
}

const set = (id: string, more: Record<string, unknown> = {}) => ({ id, type: "set", values: {}, ...more });

describe("checkPlan", () => {
  it("accepts a cycle that passes through a step declaring loop", () => {
    const plan = definition([
      set("poll", { loop: { max: 5 } }),
      {
        id: "check",
        type: "branch",
        cases: [{ when: "steps.poll.output.done", next: "done" }],
        default: "poll",
      },
      set("done"),
    ]);
    expect(checkPlan(plan)).toEqual([]);
  });

  it("reports the cycle that misses the loop step when two cycles share steps", () => {
    const plan = definition([
      set("a", { loop: { max: 3 } }),
      set("b"),
      {
        id: "c",
        type: "branch",
        cases: [
          { when: "x", next: "a" },
          { when: "y", next: "b" },
        ],
      },
    ]);
    expect(checkPlan(plan)).toEqual([
      {
        path: ["steps", 2, "cases", 1, "next"],
        message: "steps b -> c -> b form a cycle; declare `loop: { max: N }` on one of them",
      },
    ]);
  });

  it("checks each parallel branch and map body as a flow of its own", () => {
    const plan = definition([
      {
        id: "each",
        type: "map",
        items: "input.list",
        steps: [set("first", { end: true }), set("never")],
      },
    ]);
    expect(checkPlan(plan)).toEqual([
      {
        path: ["steps", 0, "steps", 1],
        message:
          'step "never" is unreachable: nothing leads to it from "first", where its list of steps starts; point a next, case, default or onError at it, or remove it',
      },
    ]);
  });

  it("counts onError and onReject targets as reachable", () => {
    const plan = definition([
      set("work", { onError: "recover" }),
      { id: "ask", type: "approval", onReject: "recover", end: true },
      set("recover"),
    ]);
    expect(checkPlan(plan)).toEqual([]);
    const withoutEdges = definition([
      set("work"),
      { id: "ask", type: "approval", end: true },
      set("recover"),
    ]);
    expect(checkPlan(withoutEdges).map((p) => p.path)).toEqual([["steps", 2]]);
  });

  it("reports retry on map steps, bad tool globs, globs that match nothing, and unreadable inline schemas", () => {
    const plan = definition(
      [
        { id: "each", type: "map", items: "input.list", retry: { max: 1 }, steps: [set("inner")] },
        {
          id: "think",
          type: "agent",
          prompt: "p",
          tools: ["threat*.ip", "mail.*", "alerts.*"],
          output: { type: "nonsense" },
        },
      ],
      { capabilities: [] },
    );
    expect(checkPlan(plan, { nodeTypes: allNodeTypes, tools })).toEqual([
      {
        path: ["steps", 0, "retry"],
        message: "retry is not supported on a map step; put retry on the steps inside it",
      },
      {
        path: ["steps", 1, "tools", 0],
        message: 'invalid tool glob "threat*.ip": use an exact name, "prefix.*" or "*"',
      },
      {
        path: ["steps", 1, "tools", 1],
        message: 'no registered tool matches "mail.*"; check the pattern or register the tools',
      },
      {
        path: ["steps", 1, "output"],
        message:
          "this output schema is not a JSON Schema that can be read: Unsupported type: nonsense; see https://json-schema.org/understanding-json-schema",
      },
    ]);
  });

  it("reports expressions in every expression field: if, map items, wait until, outputs, match and trigger when", () => {
    const plan = definition(
      [
        set("a", { if: "input.(" }),
        { id: "each", type: "map", items: "[1,", steps: [set("inner", { values: { x: "{% item + %}" } })] },
        { id: "later", type: "wait", until: "$now(" },
      ],
      {
        outputs: { result: "{% steps.a.output %}", broken: "{% } %}" },
        match: [{ event: "e", when: "a =" }],
        triggers: [{ type: "event", event: "e", when: "b !=" }],
      },
    );
    expect(checkPlan(plan).map((p) => p.path.join("."))).toEqual([
      "steps.0.if",
      "steps.1.items",
      "steps.1.steps.0.values.x",
      "steps.2.until",
      "outputs.broken",
      "match.0.when",
      "triggers.0.when",
    ]);
  });
});

describe("shipped plans", () => {
  const root = join(import.meta.dirname, "../../../plans");
  const files = readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(root, f));

  it("includes the automation hello demo", () => {
    expect(files.map((f) => relative(root, f))).toContain(join("automation", "hello.yaml"));
  });

  it.each(files.map((f) => [relative(root, f), f]))(
    "%s loads with every built-in node type registered",
    (_, file) => {
      const result = loadPlanFile(readFileSync(file, "utf8"), { file, nodeTypes: allNodeTypes });
      expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([]);
    },
  );
});
