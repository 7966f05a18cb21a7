import type { ZodType } from "zod";
import { type JsonSchemaReader, loadJsonSchemaReader } from "../plan/json-schema.js";
import { toolIssues } from "../tools/errors.js";

export interface OutputCheck {
  ok: boolean;
  value?: unknown;
  issues: Array<{ path: string; message: string }>;
}

const validators = new WeakMap<object, ZodType>();

/** JSON Schemas are compiled to zod once per schema object (plans are immutable once loaded). */
async function validatorFor(schema: Record<string, unknown>): Promise<ZodType> {
  let validator = validators.get(schema);
  if (!validator) {
    // Classic zod's reader, loaded with the first output checked (plan/json-schema.ts).
    const read = await loadJsonSchemaReader();
    validator = read(schema as Parameters<JsonSchemaReader>[0]);
    validators.set(schema, validator);
  }
  return validator;
}

/**
 * The model's final text checked against the step's output schema: parsed as JSON (a Markdown code
 * fence around it is tolerated, as models add one unasked) and validated, with every problem's path.
 * The value returned is the parsed JSON itself, so fields the schema does not mention are kept.
 */
export async function checkOutput(text: string, schema: Record<string, unknown>): Promise<OutputCheck> {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text);
  const json = fenced ? fenced[1]! : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [{ path: "", message: `the answer is not JSON (${reason})` }] };
  }
  const checked = (await validatorFor(schema)).safeParse(value);
  if (checked.success) return { ok: true, value, issues: [] };
  return { ok: false, issues: toolIssues(checked.error.issues) };
}

export function describeIssues(issues: ReadonlyArray<{ path: string; message: string }>): string {
  return issues.map((issue) => `${issue.path || "(answer)"}: ${issue.message}`).join("; ");
}
