import type { MapStepDef } from "../../plan/schema.js";
import { StepFailure } from "../errors.js";
import type { NodeHandler } from "../types.js";

/**
 * `map`: run the body once per element of `items` (at most `concurrency` at once); the output is the
 * iteration outputs in item order. An expression that matches nothing counts as no items.
 */
export const mapHandler: NodeHandler<MapStepDef> = {
  pure: true,
  async execute(step, ctx) {
    const items = await ctx.evaluate("items");
    if (items === undefined) return { kind: "suspend", suspension: { kind: "fanout", items: [] } };
    if (!Array.isArray(items)) {
      const text = JSON.stringify(items) ?? String(items);
      throw new StepFailure(
        `map step "${step.id}": items gave ${typeof items === "object" && items !== null ? "an object" : `a ${typeof items}`} (${text.length > 60 ? `${text.slice(0, 57)}...` : text}), not an array; make the expression return an array, e.g. wrap it in [ ]`,
        { code: "validation", retryable: false },
      );
    }
    return { kind: "suspend", suspension: { kind: "fanout", items } };
  },
};
