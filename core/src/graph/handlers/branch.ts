import type { StepDefinition } from "../../plan/schema.js";
import { isTruthy } from "../truthy.js";
import type { NodeHandler } from "../types.js";

type BranchStep = Extract<StepDefinition, { type: "branch" }>;

/**
 * `branch`: the first case whose `when` is true chooses the next step; with none, `default`, or else the
 * flow carries on as usual. Output `{ case, next }`: the case index (null for none) and where it went.
 */
export const branchHandler: NodeHandler<BranchStep> = {
  pure: true,
  async execute(step, ctx) {
    for (let i = 0; i < step.cases.length; i++) {
      if (isTruthy(await ctx.evaluate(`cases.${i}.when`))) {
        const next = step.cases[i]!.next;
        return { kind: "done", output: { case: i, next }, next };
      }
    }
    if (step.default !== undefined) {
      return { kind: "done", output: { case: null, next: step.default }, next: step.default };
    }
    return { kind: "done", output: { case: null, next: ctx.successor ?? null } };
  },
};
