import type { PlanProblem } from "./checks.js";
import { type PlanStructure, type StepNode, successors } from "./structure.js";

/**
 * Control-flow checks per flow (the top-level list, each parallel branch, each map body):
 * every step must be reachable from the flow's first step, and every cycle must pass through a step
 * that declares `loop: { max }`, so a run can never spin forever by accident.
 */
export function flowProblems(structure: PlanStructure): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const flow of structure.flows.values()) {
    const members = flow.steps
      .map((id) => structure.nodes.get(id))
      .filter((n): n is StepNode => n !== undefined && n.flow === flow.id);
    if (members.length === 0) continue;
    const edgesOf = (node: StepNode) =>
      successors(node).filter((id) => structure.nodes.get(id)?.flow === flow.id);

    const first = members[0]!;
    const reached = new Set<string>([first.id]);
    const queue = [first.id];
    while (queue.length) {
      const node = structure.nodes.get(queue.shift()!)!;
      for (const next of edgesOf(node)) {
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    for (const node of members) {
      if (reached.has(node.id)) continue;
      problems.push({
        path: node.path,
        message: `step "${node.id}" is unreachable: nothing leads to it from "${first.id}", where its list of steps starts; point a next, case, default or onError at it, or remove it`,
      });
    }

    // A cycle without a loop step exists exactly when the graph without loop steps still has one.
    const unguarded = new Map<string, StepNode>();
    for (const node of members) if (!node.def.loop) unguarded.set(node.id, node);
    const graph = new Map<string, string[]>();
    for (const node of unguarded.values())
      graph.set(
        node.id,
        edgesOf(node).filter((id) => unguarded.has(id)),
      );
    for (const component of stronglyConnected(graph)) {
      const cyclic = component.length > 1 || graph.get(component[0]!)!.includes(component[0]!);
      if (!cyclic) continue;
      const cycle = shortestCycle(component, graph, (id) => unguarded.get(id)!.indexInFlow);
      const closing = unguarded.get(cycle[cycle.length - 2]!)!;
      const start = cycle[0]!;
      const edge = closing.edges.find((e) => e.target === start);
      problems.push({
        path: edge?.path ?? closing.path,
        message: `steps ${cycle.join(" -> ")} form a cycle; declare \`loop: { max: N }\` on one of them`,
      });
    }
  }
  return problems;
}

/** Tarjan's algorithm; components come out in reverse topological order, members in any order. */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components;
}

/** The shortest cycle through the component's first step (in document order), as ids start..start. */
function shortestCycle(
  component: string[],
  graph: Map<string, string[]>,
  order: (id: string) => number,
): string[] {
  const members = new Set(component);
  const start = [...component].sort((a, b) => order(a) - order(b))[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
