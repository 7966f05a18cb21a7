import type { StepDefinition } from "../../plan/schema.js";
import type { NodeHandler } from "../types.js";

type SetStep = Extract<StepDefinition, { type: "set" }>;

/** `set`: the step's output is its evaluated `values`. */
export const setHandler: NodeHandler<SetStep> = {
  pure: true,
  async execute(_step, ctx) {
    return { kind: "done", output: await ctx.evaluate("values") };
  },
};
