import type { StepDefinition } from "./schema.js";
import { didYouMean } from "./suggest.js";

/**
 * The control-flow structure of a plan, shared by the loader (validation) and the PlanFactory
 * (compilation), so both agree on what `next` means:
 * - a step's successor is its `next`, or else the following step of the same list; `end: true` or the
 *   last step of a list ends its flow;
 * - branch cases, `default`, `onError` and `onReject` add edges;
 * - parallel branches and map bodies are flows of their own, and edges never cross flows.
 */

export type DocPath = Array<string | number>;

export interface FlowInfo {
  /** `root`, or `${containerStepId}#${branchIndex}` (a map body is branch 0). */
  id: string;
  container?: string;
  branchIndex?: number;
  /** Step ids in document order. */
  steps: string[];
}

export interface StepEdge {
  target: string;
  /** Where the reference is written, e.g. ["steps", 2, "cases", 0, "next"]. */
  path: DocPath;
  kind: "next" | "case" | "default" | "onError" | "onReject";
}

export interface StepNode {
  id: string;
  def: StepDefinition;
  /** Path of the step in the document, e.g. ["steps", 1, "branches", 0, "steps", 2]. */
  path: DocPath;
  flow: string;
  indexInFlow: number;
  /** Successor when the step succeeds without choosing: explicit `next`, else the following step. */
  next?: string;
  edges: StepEdge[];
}

export interface StructureProblem {
  path: DocPath;
  message: string;
}

export interface PlanStructure {
  nodes: Map<string, StepNode>;
  flows: Map<string, FlowInfo>;
  problems: StructureProblem[];
}

export function analyseStructure(steps: readonly StepDefinition[]): PlanStructure {
  const nodes = new Map<string, StepNode>();
  const flows = new Map<string, FlowInfo>();
  const problems: StructureProblem[] = [];

  const addFlow = (
    id: string,
    list: readonly StepDefinition[],
    path: DocPath,
    container?: string,
    branch?: number,
  ) => {
    const flow: FlowInfo = { id, steps: [], ...(container ? { container, branchIndex: branch } : {}) };
    flows.set(id, flow);
    list.forEach((def, index) => {
      const stepPath = [...path, index];
      if (nodes.has(def.id)) {
        const first = nodes.get(def.id)!;
        problems.push({
          path: [...stepPath, "id"],
          message: `duplicate step id "${def.id}" (first used at ${formatPath(first.path)}); step ids must be unique in the whole plan`,
        });
        return;
      }
      const following = def.end ? undefined : (def.next ?? list[index + 1]?.id);
      nodes.set(def.id, {
        id: def.id,
        def,
        path: stepPath,
        flow: id,
        indexInFlow: index,
        edges: [],
        ...(following ? { next: following } : {}),
      });
      flow.steps.push(def.id);
      if (def.type === "parallel") {
        for (const [i, b] of def.branches.entries()) {
          addFlow(`${def.id}#${i}`, b.steps, [...stepPath, "branches", i, "steps"], def.id, i);
        }
      } else if (def.type === "map") {
        addFlow(`${def.id}#0`, def.steps, [...stepPath, "steps"], def.id, 0);
      }
    });
  };
  addFlow("root", steps, ["steps"]);

  for (const node of nodes.values()) {
    const { def, path } = node;
    const edges: StepEdge[] = [];
    if (def.next) edges.push({ target: def.next, path: [...path, "next"], kind: "next" });
    if (def.onError) edges.push({ target: def.onError, path: [...path, "onError"], kind: "onError" });
    if (def.type === "branch") {
      for (const [i, c] of def.cases.entries()) {
        edges.push({ target: c.next, path: [...path, "cases", i, "next"], kind: "case" });
      }
      if (def.default) edges.push({ target: def.default, path: [...path, "default"], kind: "default" });
    }
    if (def.type === "approval" && def.onReject) {
      edges.push({ target: def.onReject, path: [...path, "onReject"], kind: "onReject" });
    }
    for (const edge of edges) {
      const target = nodes.get(edge.target);
      if (!target) {
        problems.push({
          path: edge.path,
          message: `unknown step "${edge.target}"${didYouMean(edge.target, nodes.keys()) || "; use the id of a step in the same list"}`,
        });
      } else if (target.flow !== node.flow) {
        problems.push({
          path: edge.path,
          message: `step "${edge.target}" is in another flow (${describeFlow(target.flow)}); ${edge.kind} may only point to steps of the same list (${describeFlow(node.flow)})`,
        });
      }
    }
    node.edges = edges.filter((e) => nodes.get(e.target)?.flow === node.flow);
  }
  return { nodes, flows, problems };
}

/** Steps a node may continue to, for reachability and cycle checks. */
export function successors(node: StepNode): string[] {
  const out = new Set<string>();
  if (node.next) out.add(node.next);
  for (const e of node.edges) out.add(e.target);
  return [...out];
}

export function formatPath(path: DocPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

function describeFlow(flow: string): string {
  if (flow === "root") return "the plan's top-level steps";
  const [container, branch] = flow.split("#");
  return `branch ${branch} of "${container}"`;
}
