import type { StepDefinition } from "../../plan/schema.js";
import type { NodeHandler } from "../types.js";

type PlanStep = Extract<StepDefinition, { type: "plan" }>;

/** `plan`: start the sub-plan as a child run; its output (or failure) becomes this step's. */
export const planHandler: NodeHandler<PlanStep> = {
  pure: true,
  async execute(step, ctx) {
    const input = step.input === undefined ? {} : await ctx.evaluate("input");
    return {
      kind: "suspend",
      suspension: {
        kind: "child_run",
        planId: step.plan,
        ...(step.version !== undefined ? { version: step.version } : {}),
        input,
      },
    };
  },
};
