import type { StepDefinition } from "../../plan/schema.js";
import { isTruthy } from "../truthy.js";
import type { NodeHandler, NodeResult, StepContext } from "../types.js";

type BranchStep = Extract<StepDefinition, { type: "branch" }>;

/**
 * `branch`: the first case whose `when` is true chooses the next step; with none, `default`, or else the
 * flow carries on as usual. Output `{ case, next }`: the case index (null for none) and where it went.
 * Cases whose conditions are simple are decided at once; the first that needs JSONata proper continues
 * asynchronously.
 */
export const branchHandler: NodeHandler<BranchStep> = {
  pure: true,
  execute(step, ctx) {
    for (let i = 0; i < step.cases.length; i++) {
      const when = ctx.evaluateNow(`cases.${i}.when`);
      if (when === undefined) return decideFrom(step, ctx, i);
      if (isTruthy(when.value)) return chosen(step, i);
    }
    return fallThrough(step, ctx);
  },
};

async function decideFrom(step: BranchStep, ctx: StepContext, first: number): Promise<NodeResult> {
  for (let i = first; i < step.cases.length; i++) {
    if (isTruthy(await ctx.evaluate(`cases.${i}.when`))) return chosen(step, i);
  }
  return fallThrough(step, ctx);
}

function chosen(step: BranchStep, index: number): NodeResult {
  const next = step.cases[index]!.next;
  return { kind: "done", output: { case: index, next }, next };
}

function fallThrough(step: BranchStep, ctx: StepContext): NodeResult {
  if (step.default !== undefined) {
    return { kind: "done", output: { case: null, next: step.default }, next: step.default };
  }
  return { kind: "done", output: { case: null, next: ctx.successor ?? null } };
}
