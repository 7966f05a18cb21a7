import { Cron } from "croner";
import { compileExpression, compileTemplate, ExpressionError } from "../expr/index.js";
import type { ToolCatalog } from "../tools/types.js";
import { type ExpressionField, planExpressionFields, stepExpressionFields } from "./fields.js";
import { flowProblems } from "./flow-checks.js";
import { type JsonSchemaReader, jsonSchemaReader } from "./json-schema.js";
import type { PlanDefinition, StepDefinition } from "./schema.js";
import { analyseStructure, type DocPath } from "./structure.js";
import { didYouMean } from "./suggest.js";
import { allSteps, type StepAt } from "./walk.js";

/** One thing wrong with a plan, at a path from the document root (e.g. ["steps", 3, "with", "ip"]). */
export interface PlanProblem {
  path: DocPath;
  message: string;
}

/**
 * What the checks know about the deployment. A catalog that can also list its names gets
 * "did you mean" hints and glob checks for agent `tools`.
 */
export interface CheckOptions {
  nodeTypes?: { has(type: string): boolean };
  tools?: ToolCatalog & { names?(): Iterable<string> };
}

/** Every problem of an already schema-valid plan, all collected (never stops at the first). */
export function checkPlan(definition: PlanDefinition, options: CheckOptions = {}): PlanProblem[] {
  const structure = analyseStructure(definition.steps);
  const steps = allSteps(definition.steps);
  // With duplicate ids the control flow is ambiguous (which "greet" does `next: greet` mean?), so
  // reachability and cycles are checked once the ids are unique.
  const unique = new Set(steps.map((s) => s.def.id)).size === steps.length;
  return [
    ...structure.problems,
    ...(unique ? flowProblems(structure) : []),
    ...contentProblems(definition, steps, options),
  ];
}

/**
 * The checks that look at steps one by one and at plan-level fields. They also run on the parts of a
 * plan that passed the schema when other parts did not (see raw-checks.ts).
 */
export function contentProblems(
  plan: PlanDefinition,
  steps: readonly StepAt[],
  options: CheckOptions,
): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const { def, path } of steps) {
    for (const field of stepExpressionFields(def)) problems.push(...fieldProblems(field, path));
    problems.push(...stepProblems(def, path, plan, options));
  }
  for (const field of planExpressionFields(plan)) problems.push(...fieldProblems(field, []));
  problems.push(...triggerProblems(plan), ...schemaProblems(plan));
  return problems;
}

export function fieldProblems(field: ExpressionField, base: DocPath): PlanProblem[] {
  const path = [...base, ...field.path];
  try {
    if (field.kind === "expression") {
      if (typeof field.value === "string") compileExpression(field.value, path);
    } else {
      compileTemplate(field.value, path);
    }
    return [];
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return error.problems.map((p) => ({ path: p.path, message: p.message }));
  }
}

function stepProblems(
  def: StepDefinition,
  path: DocPath,
  plan: PlanDefinition,
  options: CheckOptions,
): PlanProblem[] {
  const problems: PlanProblem[] = [];
  if (options.nodeTypes && !options.nodeTypes.has(def.type)) {
    problems.push({
      path: [...path, "type"],
      message: `no handler is registered for node type "${def.type}"; register one with registerHandler("${def.type}", …) or use another step type`,
    });
  }
  if ((def.type === "parallel" || def.type === "map") && def.retry) {
    problems.push({
      path: [...path, "retry"],
      message: `retry is not supported on a ${def.type} step; put retry on the steps inside it`,
    });
  }
  if (def.type === "tool" && options.tools) {
    problems.push(...toolProblems(def.tool, [...path, "tool"], plan, options.tools));
  }
  if (def.type === "agent") {
    if (options.tools) {
      def.tools.forEach((pattern, i) => {
        problems.push(...toolProblems(pattern, [...path, "tools", i], plan, options.tools!));
      });
    }
    if (typeof def.output === "string" && !plan.schemas?.[def.output]) {
      const defined = Object.keys(plan.schemas ?? {});
      problems.push({
        path: [...path, "output"],
        message: `schema "${def.output}" is not defined${didYouMean(def.output, defined)}; add it under the plan's \`schemas\`${defined.length ? ` (defined: ${defined.join(", ")})` : ""} or give an inline JSON Schema`,
      });
    } else if (def.output !== undefined && typeof def.output !== "string") {
      problems.push(...jsonSchemaProblems(def.output, [...path, "output"], "this output schema"));
    }
  }
  return problems;
}

/**
 * An exact tool name must be registered; a glob (`prefix.*` or `*`, as the ToolRegistry reads them)
 * must match at least one tool. Every tool a step may call brings its capabilities.
 */
function toolProblems(
  pattern: string,
  path: DocPath,
  plan: PlanDefinition,
  catalog: NonNullable<CheckOptions["tools"]>,
): PlanProblem[] {
  const names = catalog.names ? [...catalog.names()] : undefined;
  let matched: string[];
  if (pattern.includes("*")) {
    const prefix = pattern === "*" ? "" : pattern.endsWith(".*") ? pattern.slice(0, -1) : undefined;
    if (prefix === undefined || prefix.includes("*")) {
      return [{ path, message: `invalid tool glob "${pattern}": use an exact name, "prefix.*" or "*"` }];
    }
    if (!names) return [];
    matched = names.filter((n) => n.startsWith(prefix)).sort();
    if (matched.length === 0) {
      return [
        { path, message: `no registered tool matches "${pattern}"; check the pattern or register the tools` },
      ];
    }
  } else {
    if (!catalog.get(pattern)) {
      return [
        {
          path,
          message: `unknown tool "${pattern}"${names ? didYouMean(pattern, names) : ""}; use the name of a registered tool`,
        },
      ];
    }
    matched = [pattern];
  }
  const problems: PlanProblem[] = [];
  const reported = new Set<string>();
  for (const name of matched) {
    for (const capability of catalog.get(name)?.capabilities ?? []) {
      if (plan.capabilities.includes(capability) || reported.has(capability)) continue;
      reported.add(capability);
      problems.push({
        path,
        message: `tool ${name} needs capability ${capability}; add it to the plan's capabilities`,
      });
    }
  }
  return problems;
}

function triggerProblems(plan: PlanDefinition): PlanProblem[] {
  const problems: PlanProblem[] = [];
  plan.triggers.forEach((trigger, i) => {
    if (trigger.type !== "schedule") return;
    try {
      new Cron(trigger.cron);
    } catch (error) {
      const reason = errorMessage(error)
        .replace(/^CronPattern: /, "")
        .replace(/\.$/, "");
      problems.push({
        path: ["triggers", i, "cron"],
        message: `invalid cron expression "${trigger.cron}": ${reason}; use five fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * MON-FRI"`,
      });
    }
    if (!isTimeZone(trigger.timezone)) {
      problems.push({
        path: ["triggers", i, "timezone"],
        message: `unknown time zone "${trigger.timezone}"; use an IANA zone name such as "UTC" or "Europe/Berlin"`,
      });
    }
  });
  return problems;
}

function schemaProblems(plan: PlanDefinition): PlanProblem[] {
  const problems: PlanProblem[] = [];
  if (plan.inputs !== undefined) problems.push(...jsonSchemaProblems(plan.inputs, ["inputs"], "inputs"));
  for (const [name, schema] of Object.entries(plan.schemas ?? {})) {
    problems.push(...jsonSchemaProblems(schema, ["schemas", name], `schema "${name}"`));
  }
  return problems;
}

/**
 * Whether the plan has JSON Schemas for the checks to read (its `inputs`, its `schemas`, an agent's
 * inline `output`): who re-checks such a plan outside the loader loads the reader first
 * (loadJsonSchemaReader in json-schema.ts).
 */
export function hasJsonSchemas(plan: PlanDefinition): boolean {
  return (
    plan.inputs !== undefined ||
    Object.keys(plan.schemas ?? {}).length > 0 ||
    allSteps(plan.steps).some(({ def }) => def.type === "agent" && typeof def.output === "object")
  );
}

/**
 * A JSON Schema must be one zod can read. The reader is classic zod's, made available by the loader
 * (which every plan a user writes goes through) or loadJsonSchemaReader(); without it this check is left
 * to the loader, as when a runner re-checks a definition that passed the loader (json-schema.ts).
 */
function jsonSchemaProblems(schema: Record<string, unknown>, path: DocPath, what: string): PlanProblem[] {
  const read: JsonSchemaReader | undefined = jsonSchemaReader();
  if (!read) return [];
  try {
    read(schema);
    return [];
  } catch (error) {
    return [
      {
        path,
        message: `${what} is not a JSON Schema that can be read: ${errorMessage(error)}; see https://json-schema.org/understanding-json-schema`,
      },
    ];
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
