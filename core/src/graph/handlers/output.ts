import type { NodeHandler } from "../types.js";

/** The synthetic `$output` step: evaluates the plan's `outputs` template once the top-level flow ends. */
export const outputHandler: NodeHandler = {
  pure: true,
  async execute(_step, ctx) {
    return { kind: "done", output: await ctx.evaluate("outputs") };
  },
};
