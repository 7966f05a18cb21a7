import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  fieldProblems,
  formatPlanError,
  loadPlanFile,
  stepExpressionFields,
  stepSchema,
} from "../../src/index.js";
import { allNodeTypes, tools } from "./support.js";

/** docs/plan-format.md must stay true: its examples load, and its error output is what the loader says. */
const doc = readFileSync(join(import.meta.dirname, "../../../docs/plan-format.md"), "utf8");
const blocks = [...doc.matchAll(/```(yaml|text)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }));
const yamlBlocks = blocks.filter((b) => b.lang === "yaml").map((b) => b.body);

describe("docs/plan-format.md", () => {
  const plans = [
    ...yamlBlocks.filter((b) => b.startsWith("id:") && !b.includes("…") && !b.includes("broken")),
    ...yamlBlocks
      .filter((b) => b.startsWith("steps:"))
      .map((b) => `id: doc.fragment\nworkflow: automation\ntitle: fragment\n${b}`),
  ];
  it("has full plan examples", () => {
    expect(plans.length).toBeGreaterThanOrEqual(2);
  });

  it.each(plans.map((p, i) => [i, p]))("example plan %i loads", (_, text) => {
    const result = loadPlanFile(text, { file: "doc.yaml", nodeTypes: allNodeTypes });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([]);
  });

  const snippets = yamlBlocks.filter((b) => b.startsWith("- id:"));
  it.each(snippets.map((s) => [s.split("\n")[0], s]))("step example %s is a valid step", (_, text) => {
    for (const [i, raw] of (parse(text) as unknown[]).entries()) {
      const step = stepSchema.parse(raw);
      const problems = stepExpressionFields(step).flatMap((f) => fieldProblems(f, [i]));
      expect(problems).toEqual([]);
    }
  });

  it("has examples of every step type", () => {
    const types = new Set(snippets.flatMap((s) => [...s.matchAll(/type: (\w+)/g)].map((m) => m[1])));
    expect([...types].sort()).toEqual(
      ["agent", "approval", "branch", "map", "parallel", "plan", "set", "tool", "wait"].sort(),
    );
  });

  it("shows the loader's real output for the broken plan", () => {
    const broken = yamlBlocks.find((b) => b.startsWith("id: automation.broken"))!;
    const shown = blocks[blocks.findIndex((b) => b.body === broken) + 1]!.body.trim().split("\n");
    const file = "plans/automation/broken.yaml";
    const first = loadPlanFile(broken, { file, nodeTypes: allNodeTypes, tools });
    expect(first.ok ? [] : first.errors.map(formatPlanError)).toEqual(shown);

    const fixed = broken.replace("http.requst", "http.request").replace("    retries: 3\n", "");
    const next = blocks[blocks.findIndex((b) => b.body === broken) + 2]!.body.trim().split("\n");
    const second = loadPlanFile(fixed, { file, nodeTypes: allNodeTypes, tools });
    const messages = second.ok ? [] : second.errors.map(formatPlanError);
    expect(messages).toEqual(expect.arrayContaining(next));
  });
});
