import { z } from "zod";
import type { PlanDefinition } from "../plan/schema.js";
import { ApiProblem, zodProblemErrors } from "./problem.js";

/**
 * Checks a run input against its plan's `inputs` JSON Schema before anything is stored, so a request
 * with a bad input leaves no trace (no idempotency record, no dedupe claim, no run).
 * Compiled schemas are kept per plan id and version: a published version never changes.
 */
export class PlanInputValidator {
  private readonly compiled = new Map<string, z.ZodType | null>();

  check(definition: PlanDefinition, version: number, input: unknown): void {
    const schema = this.schemaOf(definition, version);
    if (!schema) return;
    const result = schema.safeParse(input);
    if (result.success) return;
    throw new ApiProblem(422, {
      kind: "validation",
      detail: `the input does not match the inputs schema of plan "${definition.id}" version ${version}`,
      errors: zodProblemErrors(result.error.issues, "input"),
    });
  }

  private schemaOf(definition: PlanDefinition, version: number): z.ZodType | null {
    const key = `${definition.id}@${version}`;
    let schema = this.compiled.get(key);
    if (schema === undefined) {
      schema = definition.inputs
        ? z.fromJSONSchema(definition.inputs as Parameters<typeof z.fromJSONSchema>[0])
        : null;
      this.compiled.set(key, schema);
    }
    return schema;
  }
}
