import { type CheckOptions, contentProblems, type PlanProblem } from "./checks.js";
import {
  type MatchRule,
  matchRule,
  type PlanDefinition,
  planDefinition,
  type StepDefinition,
  stepSchema,
  type Trigger,
  trigger,
} from "./schema.js";
import { analyseStructure, type DocPath } from "./structure.js";
import type { StepAt } from "./walk.js";

/**
 * Checks for a plan whose schema validation failed, so one load reports as much as possible: the
 * parts that are valid on their own (single steps, triggers, match rules, capabilities, schemas) get
 * the same checks as a valid plan, and step ids and references are checked on the raw document.
 * Reachability and cycles wait until the schema errors are fixed: with broken steps the control flow
 * is not known.
 */
export function checkRawPlan(raw: unknown, options: CheckOptions): PlanProblem[] {
  if (!isRecord(raw)) return [];
  const shape = planDefinition.shape;
  const steps: StepAt[] = [];
  const skeleton = Array.isArray(raw.steps) ? skeletonSteps(raw.steps, ["steps"], steps) : [];

  const capabilities = shape.capabilities.safeParse(raw.capabilities);
  const schemas = shape.schemas.safeParse(raw.schemas);
  const inputs = shape.inputs.safeParse(raw.inputs);
  const plan: PlanDefinition = {
    id: "unvalidated",
    version: 1,
    workflow: "automation",
    title: "unvalidated",
    // Only the names matter to the step checks; fall back to the raw names so a broken entry elsewhere
    // does not turn into "capability missing" or "schema not defined" noise.
    capabilities: capabilities.success ? capabilities.data : stringsOf(raw.capabilities),
    schemas: schemas.success
      ? schemas.data
      : isRecord(raw.schemas)
        ? Object.fromEntries(Object.keys(raw.schemas).map((k) => [k, {}]))
        : undefined,
    inputs: inputs.success ? inputs.data : undefined,
    triggers: itemsOf(raw.triggers, (item) => trigger.safeParse(item), { type: "manual" } satisfies Trigger),
    match: itemsOf(raw.match, (item) => matchRule.safeParse(item), { priority: 0 } satisfies MatchRule),
    steps: [],
    outputs: raw.outputs,
  };
  return [...analyseStructure(skeleton).problems, ...contentProblems(plan, steps, options)];
}

/**
 * A stand-in for each raw step that keeps only what the structure analysis reads (id, type, control
 * edges, nested lists), so duplicate ids and unknown references are found however broken the rest is.
 * Steps that parse on their own are collected into `valid` for the content checks.
 */
function skeletonSteps(list: unknown[], path: DocPath, valid: StepAt[]): StepDefinition[] {
  return list.map((raw, index) => {
    const stepPath = [...path, index];
    const parsed = parseAlone(raw);
    if (parsed) valid.push({ def: parsed, path: stepPath });
    const step = isRecord(raw) ? raw : {};
    const id = typeof step.id === "string" ? step.id : `\u0000${stepPath.join("/")}`;
    const flow = {
      id,
      ...(typeof step.next === "string" ? { next: step.next } : {}),
      ...(step.end === true ? { end: true } : {}),
      ...(typeof step.onError === "string" ? { onError: step.onError } : {}),
    };
    if (step.type === "parallel" && Array.isArray(step.branches)) {
      return {
        ...flow,
        type: "parallel" as const,
        branches: step.branches.map((branch, b) => ({
          steps:
            isRecord(branch) && Array.isArray(branch.steps)
              ? skeletonSteps(branch.steps, [...stepPath, "branches", b, "steps"], valid)
              : [],
        })),
      };
    }
    if (step.type === "map" && Array.isArray(step.steps)) {
      const body = skeletonSteps(step.steps, [...stepPath, "steps"], valid);
      return { ...flow, type: "map" as const, items: "[]", concurrency: 1, steps: body };
    }
    if (step.type === "branch" && Array.isArray(step.cases)) {
      const cases = step.cases.flatMap((c) =>
        isRecord(c) && typeof c.next === "string" ? [{ when: "true", next: c.next }] : [],
      );
      return {
        ...flow,
        type: "branch" as const,
        cases,
        ...(typeof step.default === "string" ? { default: step.default } : {}),
      };
    }
    if (step.type === "approval" && typeof step.onReject === "string") {
      return { ...flow, type: "approval" as const, approvers: [], onReject: step.onReject };
    }
    return { ...flow, type: "set" as const, values: {} };
  });
}

/**
 * Parses one step without its nested steps (they are checked on their own). A step whose only fault is
 * an unknown key is parsed again without it, so its expressions still get checked.
 */
function parseAlone(raw: unknown): StepDefinition | undefined {
  if (!isRecord(raw)) return undefined;
  const placeholder = [{ id: "placeholder", type: "set", values: {} }];
  const shallow: Record<string, unknown> = { ...raw };
  if (raw.type === "map") shallow.steps = placeholder;
  if (raw.type === "parallel" && Array.isArray(raw.branches)) {
    shallow.branches = raw.branches.map((b) => (isRecord(b) ? { ...b, steps: placeholder } : b));
  }
  const first = stepSchema.safeParse(shallow);
  if (first.success) return restoreChildren(first.data);
  const unknownKeys = first.error.issues.flatMap((i) =>
    i.code === "unrecognized_keys" && i.path.length === 0 ? i.keys : [],
  );
  if (unknownKeys.length === 0) return undefined;
  for (const key of unknownKeys) delete shallow[key];
  const second = stepSchema.safeParse(shallow);
  return second.success ? restoreChildren(second.data) : undefined;
}

/** The placeholder children must not be walked again: nested steps were collected separately. */
function restoreChildren(step: StepDefinition): StepDefinition {
  if (step.type === "map") return { ...step, steps: [] };
  if (step.type === "parallel") return { ...step, branches: step.branches.map((b) => ({ ...b, steps: [] })) };
  return step;
}

function itemsOf<T>(
  raw: unknown,
  parse: (item: unknown) => { success: true; data: T } | { success: false },
  fallback: T,
): T[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((item) => {
    const result = parse(item);
    return result.success ? result.data : fallback;
  });
}

function stringsOf(raw: unknown): string[] {
  return Array.isArray(raw) ? raw.filter((x): x is string => typeof x === "string") : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
