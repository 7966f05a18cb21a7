import { z } from "zod";
import { configSettings, MAP_KEY_FORM, type SettingMeta } from "./meta.js";

/**
 * Reading the config schema as data: which settings exist, where their metadata is, what form they take.
 * Shared by the env reader, the error formatter, the redactor and the docs generator so they cannot disagree.
 */

/** Strips default/prefault/optional/pipe wrappers down to the schema that decides the value's type. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}

/** The metadata of a setting, looked up on every wrapper layer from the outside in. */
export function metaOf(schema: z.ZodType): SettingMeta | undefined {
  let current = schema;
  for (;;) {
    const meta = configSettings.get(current);
    if (meta) return meta;
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return undefined;
    }
  }
}

/** The default a setting takes when it is absent, if it has one. Object sections (prefault) do not count. */
export function defaultOf(schema: z.ZodType): { value: unknown } | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault) return { value: current.def.defaultValue };
    if (current instanceof z.ZodOptional || current instanceof z.ZodPrefault)
      current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return undefined;
  }
}

/** Objects and maps contain settings; everything else is a value. */
export function isContainer(schema: z.ZodType): boolean {
  const base = unwrap(schema);
  return base instanceof z.ZodObject || base instanceof z.ZodRecord;
}

export interface SettingInfo {
  /** Path from the root; map keys appear as `<alias>`-style placeholders. */
  path: string[];
  schema: z.ZodType;
  meta: SettingMeta;
}

/**
 * Every documented setting in schema order: each value with metadata, and each container whose metadata
 * names an env var (a map set as a whole from JSON).
 */
export function listSettings(root: z.ZodType): SettingInfo[] {
  const found: SettingInfo[] = [];
  const visit = (schema: z.ZodType, path: string[]) => {
    const meta = metaOf(schema);
    const base = unwrap(schema);
    if (meta && (!isContainer(schema) || meta.env)) found.push({ path, schema, meta });
    if (base instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(base.shape)) visit(child as z.ZodType, [...path, key]);
    } else if (base instanceof z.ZodRecord) {
      visit(base.valueType as z.ZodType, [...path, `<${meta?.mapKey ?? "key"}>`]);
    }
  };
  visit(root, []);
  return found;
}

export interface PathStep {
  schema: z.ZodType;
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
export function resolvePath(root: z.ZodType, path: readonly PropertyKey[]): ResolvedPath {
  const steps: PathStep[] = [];
  const mapKeys = new Map<string, string>();
  let current: z.ZodType = root;
  for (const segment of path) {
    const base = unwrap(current);
    let next: z.ZodType | undefined;
    if (base instanceof z.ZodObject && typeof segment === "string") {
      next = (base.shape as Record<string, z.ZodType>)[segment];
    } else if (base instanceof z.ZodRecord) {
      const placeholder = metaOf(current)?.mapKey ?? "key";
      mapKeys.set(`<${placeholder.toUpperCase()}>`, String(segment));
      next = base.valueType as z.ZodType;
    } else if (base instanceof z.ZodArray) {
      next = base.element as z.ZodType;
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
export function envVarAt(root: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  const resolved = resolvePath(root, path);
  if (!resolved.complete) return undefined;
  for (let index = resolved.steps.length - 1; index >= 0; index--) {
    const env = resolved.steps[index]!.meta?.env;
    if (env) return instantiateEnv(env, resolved.mapKeys);
  }
  return undefined;
}

export function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  const resolved = resolvePath(root, path);
  return resolved.complete ? (resolved.steps.at(-1)?.schema ?? root) : undefined;
}

/** True when the schema is a secret or contains one, so a value found there must never be shown. */
export function containsSecret(schema: z.ZodType): boolean {
  if (metaOf(schema)?.secret) return true;
  const base = unwrap(schema);
  if (base instanceof z.ZodObject) {
    return Object.values(base.shape).some((child) => containsSecret(child as z.ZodType));
  }
  if (base instanceof z.ZodRecord || base instanceof z.ZodArray) {
    return containsSecret((base instanceof z.ZodRecord ? base.valueType : base.element) as z.ZodType);
  }
  return false;
}

/** How an environment variable's text is turned into this setting's value. */
export type EnvValueKind = "string" | "number" | "boolean" | "list" | "json" | "json-list";

export function envValueKind(schema: z.ZodType): EnvValueKind {
  const base = unwrap(schema);
  if (base instanceof z.ZodNumber) return "number";
  if (base instanceof z.ZodBoolean) return "boolean";
  // A list of objects (alerts.sources) is only writable as a JSON array.
  if (base instanceof z.ZodArray)
    return unwrap(base.element as z.ZodType) instanceof z.ZodObject ? "json-list" : "list";
  if (base instanceof z.ZodObject || base instanceof z.ZodRecord) return "json";
  return "string";
}

const HTTP_PROTOCOL = /^https?$/.source;

/** The accepted form of a value, as a phrase: used after "expected" in errors and in the docs' type column. */
export function describeForm(schema: z.ZodType): string {
  const meta = metaOf(schema);
  if (meta?.expected) return meta.expected;
  const base = unwrap(schema);
  if (meta?.path) {
    return base instanceof z.ZodArray ? "a list of paths (env: comma-separated, or a JSON array)" : "a path";
  }
  if (base instanceof z.ZodNumber) {
    const noun = base.isInt ? "an integer" : "a number";
    const min = base.minValue ?? Number.NEGATIVE_INFINITY;
    const max = base.maxValue ?? Number.POSITIVE_INFINITY;
    const isBounded = (bound: number) => Number.isFinite(bound) && Math.abs(bound) < Number.MAX_SAFE_INTEGER;
    if (isBounded(min) && isBounded(max)) return `${noun} from ${min} to ${max}`;
    if (isBounded(min)) return `${noun} of at least ${min}`;
    if (isBounded(max)) return `${noun} of at most ${max}`;
    return noun;
  }
  if (base instanceof z.ZodBoolean) return "true or false";
  if (base instanceof z.ZodEnum) return `one of: ${base.options.join(", ")}`;
  if (base instanceof z.ZodArray) return "a list of strings (env: comma-separated, or a JSON array)";
  if (base instanceof z.ZodRecord) return `a map keyed by ${MAP_KEY_FORM}`;
  if (base instanceof z.ZodObject) return `an object with keys: ${Object.keys(base.shape).join(", ")}`;
  if (base.def.type === "string") {
    const def = base.def as { format?: string; protocol?: RegExp };
    if (def.format === "url")
      return def.protocol?.source === HTTP_PROTOCOL ? "an http:// or https:// URL" : "a URL";
    const minLength = (base as z.ZodString).minLength ?? 0;
    if (minLength > 1) return `a string of at least ${minLength} characters`;
    return minLength === 1 ? "a non-empty string" : "a string";
  }
  return base.def.type;
}

/** Property names of the object at this schema, for "expected one of" and did-you-mean. */
export function objectKeys(schema: z.ZodType | undefined): string[] {
  const base = schema && unwrap(schema);
  return base instanceof z.ZodObject ? Object.keys(base.shape) : [];
}
