import * as z from "zod/mini";
import type * as core from "zod/v4/core";
import { installZodDefaults } from "../zod-defaults.js";

installZodDefaults();

/**
 * What the loader, the error messages, the redactor and the docs generator know about one setting.
 * Kept in a registry of its own (not z.globalRegistry) so the type of every entry is checked.
 */
export interface SettingMeta {
  /** Environment variable. Inside a map it holds a placeholder for the map key, e.g. `AAT_MODEL_<ALIAS>_MODEL`. */
  env?: string;
  /** Variables other tools already use for the same thing (REDIS_URL, PORT), read when `env` is unset. */
  envAliases?: readonly string[];
  description: string;
  /** Never shown in logs or error messages. */
  secret?: true;
  example?: string;
  /** The expected form when the one derived from the schema would be vague (host:port, name patterns). */
  expected?: string;
  /** Required only when another setting has a given value; enforced by the schema and shown in the docs. */
  requiredWhen?: { key: string; is: string };
  /** A file system path; relative values are resolved against the working directory. */
  path?: true;
  /** For a map: what its keys are called in docs and env placeholders ("alias" gives `<alias>`, `<ALIAS>`). */
  mapKey?: string;
}

export const configSettings = z.registry<SettingMeta>();

/**
 * Value schemas every section uses many times (a positive integer, a non-empty string, an http(s) URL, a
 * map key), each built once and shared: zod schemas are immutable, and a wrapper (`.default`, `.optional`,
 * an array or map) only refers to its inner schema, so sharing changes no accepted input and no message.
 * Built per use they were a quarter of the zod schemas a serverless cold start constructs
 * (docs/benchmarks.md, cold start, session 8). `setting()` registers a copy of a shared schema, so
 * metadata never lands on the shared one.
 */
const shared = new WeakSet<core.$ZodType>();
function sharedSchema<T extends z.ZodMiniType>(schema: T): () => T {
  shared.add(schema);
  return () => schema;
}

export const positiveInt = sharedSchema(z.number().check(z.int(), z.minimum(1)));
export const nonNegativeInt = sharedSchema(z.number().check(z.int(), z.minimum(0)));
export const text = sharedSchema(z.string().check(z.minLength(1)));
export const httpUrl = sharedSchema(z.url({ protocol: /^https?$/ }));

/** Attaches setting metadata to the outermost schema of a setting (after .default/.optional). */
export function setting<T extends z.ZodMiniType>(schema: T, meta: SettingMeta): T {
  const registered = shared.has(schema) ? schema.clone() : schema;
  configSettings.add(registered, meta);
  return registered;
}

/** Keys of maps (model aliases, feature names): they must survive the round trip through an env var name. */
export const mapKeyName = sharedSchema(
  z
    .string()
    .check(z.regex(/^[a-z][a-z0-9_]*$/, "must be lower-case letters, digits and _, starting with a letter")),
);
export const MAP_KEY_FORM = "lower-case letters, digits and _, starting with a letter";
