import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { instancesOf, planGraph, summarise } from "../src/lib/plan-graph.js";

const SHIPPED_PLANS = fileURLToPath(new URL("../../plans", import.meta.url));
const ids = (layers: { id: string }[][]) => layers.map((l) => l.map((s) => s.id));

describe("the run graph's layout", () => {
  it("lays the hello plan out in layers: branch targets side by side, parallel branches and map body nested", async () => {
    const plan = parse(await readFile(join(SHIPPED_PLANS, "automation/hello.yaml"), "utf8"));
    const root = planGraph(plan);
    expect(ids(root.layers)).toEqual([
      ["prepare"],
      ["greet"],
      ["size"],
      ["crowd", "few"],
      ["facts"],
      ["summary"],
    ]);
    expect(root.edges).toContainEqual({ from: "size", to: "crowd", kind: "case", back: false });
    expect(root.edges).toContainEqual({ from: "size", to: "few", kind: "default", back: false });
    // crowd's explicit next skips few; few falls through to the following step.
    expect(root.edges).toContainEqual({ from: "crowd", to: "facts", kind: "next", back: false });
    expect(root.edges).toContainEqual({ from: "few", to: "facts", kind: "next", back: false });
    expect(root.edges.some((e) => e.from === "size" && e.to === "crowd" && e.kind === "next")).toBe(false);
    const facts = root.layers[4]?.[0];
    expect(facts?.flows.map((f) => [f.name, ids(f.layers)])).toEqual([
      ["count", [["count"]]],
      ["longest", [["longest"]]],
    ]);
    expect(root.layers[1]?.[0]?.flows[0]?.name).toBe("each item");
  });

  it("draws a loop back without pushing layers, and onError/onReject edges; end stops the flow", () => {
    const root = planGraph({
      steps: [
        { id: "a", type: "set" },
        { id: "ask", type: "approval", onReject: "rejected" },
        { id: "b", type: "tool", onError: "a", end: true },
        { id: "rejected", type: "set" },
      ],
    });
    expect(ids(root.layers)).toEqual([["a"], ["ask"], ["b", "rejected"]]);
    expect(root.edges).toEqual([
      { from: "a", to: "ask", kind: "next", back: false },
      { from: "ask", to: "b", kind: "next", back: false },
      { from: "ask", to: "rejected", kind: "onReject", back: false },
      { from: "b", to: "a", kind: "onError", back: true },
    ]);
  });

  it("tolerates a plan that does not parse into steps", () => {
    expect(planGraph(undefined).layers).toEqual([]);
    expect(planGraph({ steps: "nope" }).layers).toEqual([]);
    expect(ids(planGraph({ steps: [{ type: "set" }, { id: "x", type: "set" }] }).layers)).toEqual([["x"]]);
  });

  it("finds a step's instances and sums their status up", () => {
    const steps = {
      greet: "succeeded",
      "greet[0]/greeting": "succeeded",
      "greet[1]/greeting": "running",
      other: "failed",
    };
    expect(instancesOf("greeting", steps).map(([k]) => k)).toEqual([
      "greet[0]/greeting",
      "greet[1]/greeting",
    ]);
    expect(summarise(["succeeded", "running", "succeeded"])).toEqual({ status: "running", count: 3 });
    expect(summarise(["approved"])).toEqual({ status: "approved", count: 1 });
    expect(summarise([])).toEqual({ status: "pending", count: 0 });
  });
});
