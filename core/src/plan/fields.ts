import type { PlanDefinition, StepDefinition } from "./schema.js";
import type { DocPath } from "./structure.js";

/**
 * Which fields of a step hold expressions, in one place, so the loader (which reports parse errors)
 * and the PlanFactory (which compiles them for execution) never disagree.
 * - `expression`: the whole field is JSONata (bare or wrapped in `{% %}`).
 * - `template`: any JSON value whose strings may contain `{% %}`.
 * `key` is the path joined with dots; node handlers pass it to `StepContext.evaluate`.
 */
export interface ExpressionField {
  path: DocPath;
  key: string;
  kind: "expression" | "template";
  value: unknown;
}

function field(path: DocPath, kind: ExpressionField["kind"], value: unknown): ExpressionField {
  return { path, key: path.join("."), kind, value };
}

export function stepExpressionFields(step: StepDefinition): ExpressionField[] {
  const out: ExpressionField[] = [];
  if (step.if !== undefined) out.push(field(["if"], "expression", step.if));
  switch (step.type) {
    case "tool":
      if (step.with !== undefined) out.push(field(["with"], "template", step.with));
      break;
    case "agent":
      out.push(field(["prompt"], "template", step.prompt));
      if (step.system !== undefined) out.push(field(["system"], "template", step.system));
      break;
    case "branch":
      step.cases.forEach((c, i) => {
        out.push(field(["cases", i, "when"], "expression", c.when));
      });
      break;
    case "map":
      out.push(field(["items"], "expression", step.items));
      break;
    case "approval":
      if (step.message !== undefined) out.push(field(["message"], "template", step.message));
      break;
    case "wait":
      if (step.until !== undefined) out.push(field(["until"], "expression", step.until));
      break;
    case "set":
      out.push(field(["values"], "template", step.values));
      break;
    case "plan":
      if (step.input !== undefined) out.push(field(["input"], "template", step.input));
      break;
    case "parallel":
      break;
  }
  return out;
}

/** Plan-level expression fields (paths from the document root). */
export function planExpressionFields(plan: PlanDefinition): ExpressionField[] {
  const out: ExpressionField[] = [];
  if (plan.outputs !== undefined) out.push(field(["outputs"], "template", plan.outputs));
  plan.match.forEach((rule, i) => {
    if (rule.when !== undefined) out.push(field(["match", i, "when"], "expression", rule.when));
  });
  plan.triggers.forEach((t, i) => {
    if (t.type === "event" && t.when !== undefined)
      out.push(field(["triggers", i, "when"], "expression", t.when));
  });
  return out;
}
