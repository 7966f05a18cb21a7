import { MemoryKeyValue } from "@aat/adapter-memory";
import { loadPlanDefinition, ToolRegistry } from "@aat/core";
import { describe, expect, it } from "vitest";
import { CodingService } from "../src/service.js";
import { codingTools } from "../src/tools.js";
import { Workspaces } from "../src/workspace.js";

const tools = new ToolRegistry(
  codingTools(
    new CodingService({ workspaces: new Workspaces({ root: "/nonexistent" }), kv: new MemoryKeyValue() }),
  ),
);

const plan = (capabilities: string[], step: Record<string, unknown>) => ({
  id: "coding.check",
  version: 1,
  workflow: "coding",
  title: "capability check",
  capabilities,
  triggers: [{ type: "manual" }],
  steps: [{ id: "s", ...step }],
});

const messages = (result: ReturnType<typeof loadPlanDefinition>) =>
  result.ok ? [] : result.errors.map((e) => e.message);

describe("plans using code.* tools declare repo.read / repo.write", () => {
  it("a tool step needs repo.read", () => {
    const step = { type: "tool", tool: "code.search", with: { repo: "r", query: "x" } };
    expect(messages(loadPlanDefinition(plan([], step), { tools }))).toEqual([
      "tool code.search needs capability repo.read; add it to the plan's capabilities",
    ]);
    expect(loadPlanDefinition(plan(["repo.read"], step), { tools }).ok).toBe(true);
  });

  it("an agent allowed code.* needs repo.write too, for code.apply_patch", () => {
    const step = { type: "agent", prompt: "fix it", tools: ["code.*"] };
    expect(messages(loadPlanDefinition(plan(["repo.read"], step), { tools }))).toEqual([
      expect.stringMatching(/code.apply_patch needs capability repo.write/),
    ]);
    expect(loadPlanDefinition(plan(["repo.read", "repo.write"], step), { tools }).ok).toBe(true);
  });
});
