import type { ExecutionGraph } from "./execution-graph.js";
import { prefixOf } from "./keys.js";
import type { ExpressionScope, RunState, StepState } from "./types.js";

/**
 * What expressions of step instance `key` see: `input`, `run`, and `steps.<id>`. At the top level
 * `steps` is the run's own record (no copy: iteration keys such as `m[0]/x` in it are not identifiers,
 * so no expression reaches them by `steps.<id>`). Inside a map iteration the top-level steps are
 * joined by the iteration's own steps, which shadow by step id, plus `item` and `index`; nested
 * iterations compose from the outside in.
 */
export function buildScope(graph: ExecutionGraph, state: RunState, key: string): ExpressionScope {
  const run = {
    id: state.runId,
    planId: state.plan.id,
    planVersion: state.plan.version,
    workflow: state.plan.workflow,
  };
  const prefix = prefixOf(key);
  if (prefix === "") return { input: state.input, steps: state.steps, run };

  const steps: Record<string, StepState> = {};
  for (const id of graph.rootScopeSteps) {
    const step = state.steps[id];
    if (step) steps[id] = step;
  }
  let item: unknown;
  let index = 0;
  let outer = "";
  // Walk the iteration segments ("a[1]/", "b[0]/", …) from the outside in.
  for (let start = 0; start < prefix.length; ) {
    const end = prefix.indexOf("/", start);
    const segment = prefix.slice(start, end);
    const bracket = segment.lastIndexOf("[");
    const mapId = segment.slice(0, bracket);
    index = Number(segment.slice(bracket + 1, -1));
    item = state.steps[outer + mapId]?.fanout?.items?.[index];
    outer = prefix.slice(0, end + 1);
    for (const id of graph.steps.get(mapId)?.iterationSteps ?? []) {
      const step = state.steps[outer + id];
      if (step) steps[id] = step;
    }
    start = end + 1;
  }
  return { input: state.input, steps, run, item, index };
}
