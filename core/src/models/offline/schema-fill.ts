import type { ZodType } from "zod";
import { type JsonSchemaReader, loadJsonSchemaReader } from "../../plan/json-schema.js";
import { type Assessment, levelOfWord, type RiskLevel } from "./assessment.js";
import type { Fact } from "./facts.js";

/** Every text the offline model writes starts with this. */
export const OFFLINE_LABEL = "[offline model]";
export const NO_UNDERSTANDING = "offline model: no language understanding";
/** Added to object outputs that allow extra properties, so a stored output says where it came from. */
export const GENERATED_BY_FIELD = "generatedBy";
export const GENERATED_BY =
  "offline model (deterministic rules over tool results; no language understanding)";

type Schema = Record<string, unknown>;

interface FillContext {
  root: Schema;
  facts: readonly Fact[];
  assessment: Assessment;
  /** What was chosen and why, for the rationale (`verdict = "malicious"`). */
  decisions: string[];
  /** zod's JSON Schema reader, for `accepts`. */
  readJsonSchema: JsonSchemaReader;
}

const MAX_DEPTH = 12;
const RATIONALE_NAME =
  /^(rationale|reason|reasoning|explanation|justification|summary|analysis|notes?|comments?|answer|message|details?|description|text)$|(rationale|reason|summary|explanation)$/i;
const NEEDS_HUMAN_NAME =
  /needs?_?(human|review|approval|escalation|analyst)|requires?_?(human|review|approval)|manual|uncertain|unsure/i;
const ALARM_NAME =
  /malicious|threat|compromised|escalate|block|contain|isolate|true_?positive|dangerous|attack|incident|suspicious/i;
const HARMLESS_NAME = /benign|false_?positive|safe|clean|harmless|legitimate/i;
const SCORE_NAME = /score|risk|severity_?level|threat_?level/i;
const CONFIDENCE_NAME = /confidence|certainty|probability/i;

/**
 * A value for `schema` chosen by fixed rules: values copied from facts with the same name, enums and
 * flags decided by the risk assessment, numbers from risk scores, free-text fields filled with a
 * labelled rationale or an honest note. Never a guess dressed up as understanding.
 */
export async function fillSchema(
  schema: Schema,
  facts: readonly Fact[],
  assessment: Assessment,
): Promise<unknown> {
  // Classic zod's reader, loaded by the first fillSchema (plan/json-schema.ts).
  const readJsonSchema = await loadJsonSchemaReader();
  const ctx: FillContext = { root: schema, facts, assessment, decisions: [], readJsonSchema };
  return fillValue(schema, "value", ctx, 0, true);
}

/** The rationale text: the decisions made and the rule behind them, labelled. */
export function rationaleText(decisions: readonly string[], assessment: Assessment): string {
  const decided = decisions.length > 0 ? `${decisions.join("; ")}. ` : "";
  return `${OFFLINE_LABEL} ${decided}Basis: ${assessment.basis}. ${NO_UNDERSTANDING}: these values come from fixed rules over tool results and named fields, not from reading the text.`;
}

function fillValue(raw: Schema, name: string, ctx: FillContext, depth: number, isRoot = false): unknown {
  const schema = resolve(raw, ctx.root);
  if (depth > MAX_DEPTH) return null;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return pickEnum(schema.enum, schema, name, ctx);
  switch (typeOf(schema)) {
    case "object":
      return fillObject(schema, ctx, depth, isRoot);
    case "array":
      return fillArray(schema, name, ctx, depth);
    case "string":
      return fillString(schema, name, ctx);
    case "number":
    case "integer":
      return fillNumber(schema, name, ctx);
    case "boolean":
      return fillBoolean(name, ctx);
    case "null":
      return null;
    default:
      return isRationaleName(name) ? rationaleText(ctx.decisions, ctx.assessment) : NO_UNDERSTANDING;
  }
}

function fillObject(
  schema: Schema,
  ctx: FillContext,
  depth: number,
  isRoot: boolean,
): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
  const out: Record<string, unknown> = {};
  const names = Object.keys(properties);
  // Decisions first, so the rationale can say what was decided.
  const rationales = names.filter((n) => isRationaleName(n) && isFreeText(resolve(properties[n]!, ctx.root)));
  for (const name of names) {
    if (!rationales.includes(name)) out[name] = fillValue(properties[name]!, name, ctx, depth + 1);
  }
  for (const name of rationales) {
    const property = resolve(properties[name]!, ctx.root);
    out[name] = fitLength(rationaleText(ctx.decisions, ctx.assessment), property);
  }
  if (isRoot && schema.additionalProperties !== false && !(GENERATED_BY_FIELD in properties)) {
    out[GENERATED_BY_FIELD] = GENERATED_BY;
  }
  return out;
}

function fillArray(schema: Schema, name: string, ctx: FillContext, depth: number): unknown[] {
  const items = isSchema(schema.items) ? resolve(schema.items as Schema, ctx.root) : {};
  const minItems = typeof schema.minItems === "number" ? schema.minItems : 0;
  const maxItems = typeof schema.maxItems === "number" ? schema.maxItems : 10;
  let values: unknown[] = [];
  if (Array.isArray(items.enum)) {
    const chosen = membersFor(
      ctx.assessment.level,
      items.enum.filter((v): v is string => typeof v === "string"),
    );
    values = chosen.slice(0, maxItems);
    if (values.length > 0)
      ctx.decisions.push(`${name} = ${JSON.stringify(values)} (${ctx.assessment.level} risk)`);
  } else {
    const type = typeOf(items);
    if (type === "string" || type === "number" || type === "integer" || type === "boolean") {
      // A list named in the plural (`ips`) collects the values named in the singular (`ip`).
      const same = ctx.facts.filter(
        (f) =>
          (sameName(f.key, name) || sameName(`${f.key}s`, name)) &&
          matchesType(f.value, type) &&
          accepts(items, f.value, ctx),
      );
      values = [...new Set(same.map((f) => f.value))].slice(0, maxItems);
    }
  }
  while (values.length < minItems) values.push(fillValue(items, name, ctx, depth + 1));
  return values;
}

function fillString(schema: Schema, name: string, ctx: FillContext): string {
  const fact = ctx.facts.find(
    (f) => sameName(f.key, name) && typeof f.value === "string" && accepts(schema, f.value, ctx),
  );
  if (fact && typeof fact.value === "string") return fact.value;
  const format = typeof schema.format === "string" ? FORMAT_PLACEHOLDERS[schema.format] : undefined;
  if (format !== undefined) return format;
  if (isRationaleName(name)) return fitLength(rationaleText(ctx.decisions, ctx.assessment), schema);
  return fitLength(NO_UNDERSTANDING, schema);
}

// Fixed, obviously-not-real values: the offline model has no clock or address book to draw on.
const FORMAT_PLACEHOLDERS: Record<string, string> = {
  "date-time": "1970-01-01T00:00:00.000Z",
  date: "1970-01-01",
  time: "00:00:00Z",
  email: "offline-model@example.invalid",
  uri: "https://example.invalid/offline-model",
  url: "https://example.invalid/offline-model",
  uuid: "00000000-0000-4000-8000-000000000000",
  ipv4: "0.0.0.0",
};

function fillNumber(schema: Schema, name: string, ctx: FillContext): number {
  const integer = typeOf(schema) === "integer";
  const fact = ctx.facts.find(
    (f) => sameName(f.key, name) && typeof f.value === "number" && accepts(schema, f.value, ctx),
  );
  let value: number;
  if (fact && typeof fact.value === "number") {
    value = fact.value;
  } else if (SCORE_NAME.test(name) && !CONFIDENCE_NAME.test(name) && ctx.assessment.score !== undefined) {
    const max = typeof schema.maximum === "number" ? schema.maximum : 100;
    value = max <= 1 ? ctx.assessment.score / 100 : ctx.assessment.score;
    ctx.decisions.push(`${name} = ${value} (the deciding risk score)`);
  } else {
    value = lowerBound(schema);
    if (CONFIDENCE_NAME.test(name))
      ctx.decisions.push(`${name} = ${value} (the offline model claims no confidence)`);
  }
  const clamped = Math.min(upperBound(schema), Math.max(lowerBound(schema), value));
  return integer ? Math.round(clamped) : clamped;
}

function lowerBound(schema: Schema): number {
  if (typeof schema.minimum === "number") return schema.minimum;
  if (typeof schema.exclusiveMinimum === "number")
    return schema.exclusiveMinimum + (typeOf(schema) === "integer" ? 1 : 1e-6);
  return 0;
}

function upperBound(schema: Schema): number {
  if (typeof schema.maximum === "number") return schema.maximum;
  if (typeof schema.exclusiveMaximum === "number")
    return schema.exclusiveMaximum - (typeOf(schema) === "integer" ? 1 : 1e-6);
  return Number.POSITIVE_INFINITY;
}

function fillBoolean(name: string, ctx: FillContext): boolean {
  const fact = ctx.facts.find((f) => sameName(f.key, name) && typeof f.value === "boolean");
  if (fact && typeof fact.value === "boolean") return fact.value;
  const level = ctx.assessment.level;
  let value = false;
  if (NEEDS_HUMAN_NAME.test(name)) value = level === "unknown" || level === "medium";
  else if (HARMLESS_NAME.test(name)) value = level === "low";
  else if (/suspicious/i.test(name)) value = level === "high" || level === "medium";
  else if (ALARM_NAME.test(name)) value = level === "high";
  ctx.decisions.push(`${name} = ${value}`);
  return value;
}

function pickEnum(values: readonly unknown[], schema: Schema, name: string, ctx: FillContext): unknown {
  const copied = ctx.facts.find((f) => sameName(f.key, name) && values.includes(f.value));
  if (copied) {
    ctx.decisions.push(`${name} = ${JSON.stringify(copied.value)} (copied from ${copied.source})`);
    return copied.value;
  }
  const words = values.filter((v): v is string => typeof v === "string");
  const [chosen] = membersFor(ctx.assessment.level, words);
  if (chosen !== undefined) {
    ctx.decisions.push(`${name} = ${JSON.stringify(chosen)} (${ctx.assessment.level} risk)`);
    return chosen;
  }
  const fallback = "default" in schema && values.includes(schema.default) ? schema.default : values[0];
  ctx.decisions.push(
    `${name} = ${JSON.stringify(fallback)} (no rule matched these values; ${"default" in schema ? "the default" : "the first allowed value"})`,
  );
  return fallback;
}

// When the enum has no value for the assessed level, the nearest one that errs towards a human looking.
const PREFERENCE: Record<RiskLevel, readonly RiskLevel[]> = {
  high: ["high", "medium", "unknown"],
  medium: ["medium", "unknown", "high"],
  low: ["low", "unknown", "medium"],
  unknown: ["unknown", "medium"],
};

/** The enum members naming the assessed level (or the nearest preferred level that has any). */
function membersFor(level: RiskLevel, values: readonly string[]): string[] {
  for (const wanted of PREFERENCE[level]) {
    const members = values.filter((v) => levelOfWord(v) === wanted);
    if (members.length > 0) return members;
  }
  return [];
}

const validators = new WeakMap<Schema, ZodType | null>();

/** Whether `value` satisfies `schema` (format, length, pattern, range): facts are copied only when it does. */
function accepts(schema: Schema, value: unknown, ctx: FillContext): boolean {
  let validator = validators.get(schema);
  if (validator === undefined) {
    try {
      validator = ctx.readJsonSchema(schema as Parameters<JsonSchemaReader>[0]);
    } catch {
      // A schema zod cannot read (an unresolved $ref, say): fall back to the type check already made.
      validator = null;
    }
    validators.set(schema, validator);
  }
  return validator === null || validator.safeParse(value).success;
}

function isFreeText(schema: Schema): boolean {
  return typeOf(schema) === "string" && !("enum" in schema) && !("const" in schema) && !("format" in schema);
}

function isRationaleName(name: string): boolean {
  return RATIONALE_NAME.test(name);
}

function fitLength(text: string, schema: Schema): string {
  const max = typeof schema.maxLength === "number" ? schema.maxLength : undefined;
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const cut = max !== undefined && text.length > max ? text.slice(0, max) : text;
  return cut.length < min ? cut.padEnd(min, ".") : cut;
}

const normalName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");

function sameName(a: string, b: string): boolean {
  return normalName(a) === normalName(b);
}

function matchesType(value: unknown, type: string): boolean {
  if (type === "integer") return typeof value === "number" && Number.isInteger(value);
  return typeof value === type;
}

function isSchema(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The schema's type: its `type` (the first non-null one), else inferred from its keywords. */
function typeOf(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.find((t) => t !== "null") ?? "null";
  if (isSchema(schema.properties)) return "object";
  if (isSchema(schema.items)) return "array";
  return undefined;
}

/** Follows local `$ref`s, takes the first non-null `anyOf`/`oneOf` branch and merges `allOf`. */
function resolve(schema: Schema, root: Schema, seen = 0): Schema {
  if (seen > MAX_DEPTH) return {};
  if (typeof schema.$ref === "string") {
    const target = pointer(root, schema.$ref);
    return target ? resolve({ ...target, ...withoutKey(schema, "$ref") }, root, seen + 1) : {};
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const pick = options.find((o) => isSchema(o) && (o as Schema).type !== "null") ?? options[0];
      return resolve({ ...withoutKey(schema, key), ...(pick as Schema) }, root, seen + 1);
    }
  }
  if (Array.isArray(schema.allOf)) {
    let merged: Schema = withoutKey(schema, "allOf");
    for (const part of schema.allOf) {
      if (!isSchema(part)) continue;
      const resolved = resolve(part as Schema, root, seen + 1);
      merged = {
        ...merged,
        ...resolved,
        properties: {
          ...(merged.properties as Schema | undefined),
          ...(resolved.properties as Schema | undefined),
        },
      };
    }
    return merged;
  }
  return schema;
}

function pointer(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith("#")) return undefined;
  let current: unknown = root;
  for (const segment of ref.slice(1).split("/").filter(Boolean)) {
    if (!isSchema(current)) return undefined;
    current = (current as Schema)[segment.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return isSchema(current) ? (current as Schema) : undefined;
}

function withoutKey(schema: Schema, key: string): Schema {
  const { [key]: _dropped, ...rest } = schema;
  return rest;
}
