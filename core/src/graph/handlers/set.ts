import type { StepDefinition } from "../../plan/schema.js";
import type { NodeHandler, NodeResult } from "../types.js";

type SetStep = Extract<StepDefinition, { type: "set" }>;

/** `set`: the step's output is its evaluated `values` (at once when its expressions are simple). */
export const setHandler: NodeHandler<SetStep> = {
  pure: true,
  execute(_step, ctx) {
    const values = ctx.evaluateNow("values");
    if (values !== undefined) return { kind: "done", output: values.value };
    return ctx.evaluate("values").then(done);
  },
};

function done(output: unknown): NodeResult {
  return { kind: "done", output };
}
