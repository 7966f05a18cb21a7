import type { StepDefinition } from "./schema.js";
import type { DocPath } from "./structure.js";

export interface StepAt {
  def: StepDefinition;
  /** Path of the step from the document root, e.g. ["steps", 1, "branches", 0, "steps", 2]. */
  path: DocPath;
}

/** Every step of a plan in document order, nested steps right after their container. */
export function allSteps(steps: readonly StepDefinition[], path: DocPath = ["steps"]): StepAt[] {
  const out: StepAt[] = [];
  steps.forEach((def, index) => {
    const stepPath = [...path, index];
    out.push({ def, path: stepPath });
    if (def.type === "parallel") {
      def.branches.forEach((branch, b) => {
        out.push(...allSteps(branch.steps, [...stepPath, "branches", b, "steps"]));
      });
    } else if (def.type === "map") {
      out.push(...allSteps(def.steps, [...stepPath, "steps"]));
    }
  });
  return out;
}
