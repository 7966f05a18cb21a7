import * as core from "zod/v4/core";
import { configSettings, MAP_KEY_FORM, type SettingMeta } from "./meta.js";
import { tabledSettings } from "./section.js";

/**
 * Reading the config schema as data: which settings exist, where their metadata is, what form they take.
 * Shared by the env reader, the error formatter, the redactor and the docs generator so they cannot disagree.
 */

/** The schema inside a default/prefault/optional/pipe wrapper; undefined for any other schema. */
function wrappedBy(schema: core.$ZodType): core.$ZodType | undefined {
  if (
    schema instanceof core.$ZodDefault ||
    schema instanceof core.$ZodPrefault ||
    schema instanceof core.$ZodOptional
  )
    return schema._zod.def.innerType;
  if (schema instanceof core.$ZodPipe) return schema._zod.def.in;
  return undefined;
}

/** Strips default/prefault/optional/pipe wrappers down to the schema that decides the value's type. */
export function unwrap(schema: core.$ZodType): core.$ZodType {
  let current = schema;
  for (let inner = wrappedBy(current); inner; inner = wrappedBy(current)) current = inner;
  return current;
}

/** The metadata of a setting, looked up on every wrapper layer from the outside in. */
export function metaOf(schema: core.$ZodType): SettingMeta | undefined {
  for (let current: core.$ZodType | undefined = schema; current; current = wrappedBy(current)) {
    const meta = configSettings.get(current);
    if (meta) return meta;
  }
  return undefined;
}

/** The default a setting takes when it is absent, if it has one. Object sections (prefault) do not count. */
export function defaultOf(schema: core.$ZodType): { value: unknown } | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof core.$ZodDefault) return { value: current._zod.def.defaultValue };
    if (current instanceof core.$ZodOptional || current instanceof core.$ZodPrefault)
      current = current._zod.def.innerType;
    else if (current instanceof core.$ZodPipe) current = current._zod.def.in;
    else return undefined;
  }
}

/** Objects and maps contain settings; everything else is a value. */
export function isContainer(schema: core.$ZodType): boolean {
  const base = unwrap(schema);
  return base instanceof core.$ZodObject || base instanceof core.$ZodRecord;
}

export interface SettingInfo {
  /** Path from the root; map keys appear as `<alias>`-style placeholders. */
  path: string[];
  schema: core.$ZodType;
  meta: SettingMeta;
}

/**
 * Every documented setting in schema order: each value with metadata, and each container whose metadata
 * names an env var (a map set as a whole from JSON).
 */
export function listSettings(root: core.$ZodType): SettingInfo[] {
  const found: SettingInfo[] = [];
  const visit = (schema: core.$ZodType, path: string[]) => {
    // A section the build tabled is listed from its table, so it is not built to be read (section.ts).
    const tabled = tabledSettings(schema);
    if (tabled) {
      for (const setting of tabled) found.push(tabledSetting(schema, path, setting.path, setting.meta));
      return;
    }
    const meta = metaOf(schema);
    const base = unwrap(schema);
    if (meta && (!isContainer(schema) || meta.env)) found.push({ path, schema, meta });
    if (base instanceof core.$ZodObject) {
      for (const [key, child] of Object.entries(base._zod.def.shape)) visit(child, [...path, key]);
    } else if (base instanceof core.$ZodRecord) {
      visit(base._zod.def.valueType, [...path, `<${meta?.mapKey ?? "key"}>`]);
    }
  };
  visit(root, []);
  return found;
}

/** A setting listed from a section table: its schema is built only when read. */
function tabledSetting(section: core.$ZodType, at: string[], path: string[], meta: SettingMeta): SettingInfo {
  let schema: core.$ZodType | undefined;
  return {
    path: [...at, ...path],
    meta,
    get schema() {
      schema ??= schemaAt(section, path);
      if (!schema)
        throw new Error(`config section table out of date: no setting at ${[...at, ...path].join(".")}`);
      return schema;
    },
  };
}

export interface PathStep {
  schema: core.$ZodType;
  meta: SettingMeta | undefined;
}

export interface ResolvedPath {
  /** Schemas from the root's child down to the path's end; shorter than the path when the path leaves the schema. */
  steps: PathStep[];
  /** Placeholder name (upper case) → actual map key, for instantiating env templates. */
  mapKeys: Map<string, string>;
  /** True when every segment of the path exists in the schema. */
  complete: boolean;
}

/** Follows a concrete path (real map keys, array indexes) through the schema. */
export function resolvePath(root: core.$ZodType, path: readonly PropertyKey[]): ResolvedPath {
  const steps: PathStep[] = [];
  const mapKeys = new Map<string, string>();
  let current: core.$ZodType = root;
  for (const segment of path) {
    const base = unwrap(current);
    let next: core.$ZodType | undefined;
    if (base instanceof core.$ZodObject && typeof segment === "string") {
      next = base._zod.def.shape[segment];
    } else if (base instanceof core.$ZodRecord) {
      const placeholder = metaOf(current)?.mapKey ?? "key";
      mapKeys.set(`<${placeholder.toUpperCase()}>`, String(segment));
      next = base._zod.def.valueType;
    } else if (base instanceof core.$ZodArray) {
      next = base._zod.def.element;
    }
    if (!next) return { steps, mapKeys, complete: false };
    steps.push({ schema: next, meta: metaOf(next) });
    current = next;
  }
  return { steps, mapKeys, complete: true };
}

/** Fills `<ALIAS>`-style placeholders of an env template with the map keys found on the path. */
export function instantiateEnv(template: string, mapKeys: ReadonlyMap<string, string>): string {
  return template.replace(
    /<[A-Z]+>/g,
    (placeholder) => mapKeys.get(placeholder)?.toUpperCase() ?? placeholder,
  );
}

/** The env var that sets the value at this path: its own, or the nearest enclosing setting's (a JSON map). */
export function envVarAt(root: core.$ZodType, path: readonly PropertyKey[]): string | undefined {
  const resolved = resolvePath(root, path);
  if (!resolved.complete) return undefined;
  for (let index = resolved.steps.length - 1; index >= 0; index--) {
    const env = resolved.steps[index]!.meta?.env;
    if (env) return instantiateEnv(env, resolved.mapKeys);
  }
  return undefined;
}

export function schemaAt(root: core.$ZodType, path: readonly PropertyKey[]): core.$ZodType | undefined {
  const resolved = resolvePath(root, path);
  return resolved.complete ? (resolved.steps.at(-1)?.schema ?? root) : undefined;
}

/** True when the schema is a secret or contains one, so a value found there must never be shown. */
export function containsSecret(schema: core.$ZodType): boolean {
  if (metaOf(schema)?.secret) return true;
  const base = unwrap(schema);
  if (base instanceof core.$ZodObject) {
    return Object.values(base._zod.def.shape).some((child) => containsSecret(child));
  }
  if (base instanceof core.$ZodRecord) return containsSecret(base._zod.def.valueType);
  if (base instanceof core.$ZodArray) return containsSecret(base._zod.def.element);
  return false;
}

/** How an environment variable's text is turned into this setting's value. */
export type EnvValueKind = "string" | "number" | "boolean" | "list" | "json" | "json-list";

export function envValueKind(schema: core.$ZodType): EnvValueKind {
  const base = unwrap(schema);
  if (base instanceof core.$ZodNumber) return "number";
  if (base instanceof core.$ZodBoolean) return "boolean";
  // A list of objects (alerts.sources) is only writable as a JSON array.
  if (base instanceof core.$ZodArray)
    return unwrap(base._zod.def.element) instanceof core.$ZodObject ? "json-list" : "list";
  if (base instanceof core.$ZodObject || base instanceof core.$ZodRecord) return "json";
  return "string";
}

const HTTP_PROTOCOL = /^https?$/.source;

interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  format?: string;
  minimum?: number;
  maximum?: number;
  length?: number;
}

/**
 * The bounds a schema's checks set (a number's value, a string's length) and whether they make it an
 * integer: what classic zod's minValue, maxValue, isInt and minLength read, for classic and mini schemas.
 * Format bounds (an int's safe range) are left out: describeForm does not show them.
 */
function checkBounds(schema: core.$ZodType): { isInt: boolean; min: number; max: number } {
  let isInt = false;
  let min = Number.NEGATIVE_INFINITY;
  let max = Number.POSITIVE_INFINITY;
  const checks: readonly core.$ZodCheck<never>[] = schema._zod.def.checks ?? [];
  for (const check of checks) {
    const def = check._zod.def as CheckDef;
    if (def.check === "greater_than" && def.value !== undefined) min = Math.max(min, def.value);
    else if (def.check === "less_than" && def.value !== undefined) max = Math.min(max, def.value);
    else if (def.check === "min_length" && def.minimum !== undefined) min = Math.max(min, def.minimum);
    else if (def.check === "max_length" && def.maximum !== undefined) max = Math.min(max, def.maximum);
    else if (def.check === "length_equals" && def.length !== undefined) {
      min = Math.max(min, def.length);
      max = Math.min(max, def.length);
    } else if (def.check === "number_format" && def.format?.includes("int")) isInt = true;
    else if (def.check === "multiple_of" && Number.isSafeInteger(def.value)) isInt = true;
  }
  return { isInt, min, max };
}

/** The accepted form of a value, as a phrase: used after "expected" in errors and in the docs' type column. */
export function describeForm(schema: core.$ZodType): string {
  const meta = metaOf(schema);
  if (meta?.expected) return meta.expected;
  const base = unwrap(schema);
  if (meta?.path) {
    return base instanceof core.$ZodArray
      ? "a list of paths (env: comma-separated, or a JSON array)"
      : "a path";
  }
  if (base instanceof core.$ZodNumber) {
    const { isInt, min, max } = checkBounds(base);
    const noun = isInt ? "an integer" : "a number";
    const isBounded = (bound: number) => Number.isFinite(bound) && Math.abs(bound) < Number.MAX_SAFE_INTEGER;
    if (isBounded(min) && isBounded(max)) return `${noun} from ${min} to ${max}`;
    if (isBounded(min)) return `${noun} of at least ${min}`;
    if (isBounded(max)) return `${noun} of at most ${max}`;
    return noun;
  }
  if (base instanceof core.$ZodBoolean) return "true or false";
  if (base instanceof core.$ZodEnum) return `one of: ${Object.values(base._zod.def.entries).join(", ")}`;
  if (base instanceof core.$ZodArray) return "a list of strings (env: comma-separated, or a JSON array)";
  if (base instanceof core.$ZodRecord) return `a map keyed by ${MAP_KEY_FORM}`;
  if (base instanceof core.$ZodObject)
    return `an object with keys: ${Object.keys(base._zod.def.shape).join(", ")}`;
  if (base._zod.def.type === "string") {
    const def = base._zod.def as { format?: string; protocol?: RegExp };
    if (def.format === "url")
      return def.protocol?.source === HTTP_PROTOCOL ? "an http:// or https:// URL" : "a URL";
    const minLength = Math.max(checkBounds(base).min, 0);
    if (minLength > 1) return `a string of at least ${minLength} characters`;
    return minLength === 1 ? "a non-empty string" : "a string";
  }
  return base._zod.def.type;
}

/** Property names of the object at this schema, for "expected one of" and did-you-mean. */
export function objectKeys(schema: core.$ZodType | undefined): string[] {
  const base = schema && unwrap(schema);
  return base instanceof core.$ZodObject ? Object.keys(base._zod.def.shape) : [];
}
