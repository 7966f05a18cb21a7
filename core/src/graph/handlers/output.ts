import type { NodeHandler, NodeResult } from "../types.js";

/** The synthetic `$output` step: evaluates the plan's `outputs` template once the top-level flow ends. */
export const outputHandler: NodeHandler = {
  pure: true,
  execute(_step, ctx) {
    const outputs = ctx.evaluateNow("outputs");
    if (outputs !== undefined) return { kind: "done", output: outputs.value };
    return ctx.evaluate("outputs").then(done);
  },
};

function done(output: unknown): NodeResult {
  return { kind: "done", output };
}
