import type { ParallelStepDef } from "../../plan/schema.js";
import type { NodeHandler } from "../types.js";

/** `parallel`: every branch runs as a flow of its own; the output is the branch outputs in order. */
export const parallelHandler: NodeHandler<ParallelStepDef> = {
  pure: true,
  async execute(step) {
    return { kind: "suspend", suspension: { kind: "fanout", count: step.branches.length } };
  },
};
