import { isAbsolute, resolve } from "node:path";
import { CONFIG_FILE_ENV, type Environment, readEnv } from "./env.js";
import { ConfigError, type ConfigProblem } from "./errors.js";
import type { FileReading } from "./file.js";
import { listSettings } from "./introspect.js";
import { problemsFromIssue } from "./issues.js";
import { type AatConfig, aatConfigSchema, configFields } from "./schema.js";
import {
  deepMerge,
  getAt,
  isPlainObject,
  type PlainObject,
  recordSources,
  type ValueSources,
} from "./values.js";

// The layers of loadConfig (load.ts) and loadConfigOnDemand (load-on-demand.ts) after the config file
// is read: in a module of its own, without the file reader, so that a bundle using only
// loadConfigOnDemand does not load the YAML parser at start (docs/benchmarks.md, cold start).

export interface LoadConfigOptions {
  /** Defaults to process.env. */
  env?: Environment;
  /** Config file, YAML or JSON. Defaults to AAT_CONFIG; without either, none is read. */
  file?: string;
  /** Relative paths (the file, dataDir, plan directories) are resolved against this. Defaults to process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: AatConfig;
  /** Unknown AAT_* variables, with did-you-mean. Safe to log. */
  warnings: string[];
  /** The config file that was read, as an absolute path. */
  file?: string;
}

/** The config file to read (absolute), and the variable that named it (undefined when given as an option). */
export function configFile(
  options: LoadConfigOptions,
): { path: string; namedBy: string | undefined } | undefined {
  const env = options.env ?? process.env;
  const namedFile = options.file ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (namedFile === undefined) return undefined;
  return {
    path: resolve(options.cwd ?? process.cwd(), namedFile),
    namedBy: options.file === undefined ? CONFIG_FILE_ENV : undefined,
  };
}

export function fromReading(
  options: LoadConfigOptions,
  named: { path: string } | undefined,
  reading: FileReading | undefined,
): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const sources: ValueSources = new Map();
  const file = named?.path;
  let fileValues: PlainObject = {};
  if (reading) {
    if (reading.ok) {
      fileValues = reading.values;
      for (const [key, value] of Object.entries(fileValues))
        recordSources(value, [key], sources, { file: true });
    } else {
      problems.push(reading.problem);
    }
  }

  const envReading = readEnv(configFields, env);
  problems.push(...envReading.problems);
  for (const [path, source] of envReading.sources) sources.set(path, source);

  const input = deepMerge(fileValues, envReading.values);
  // Parsed once per process: zod's JIT (generating and compiling a parser per object schema on its first
  // parse) would cost more than it saves here, about 30 ms of a serverless first invocation
  // (docs/benchmarks.md, cold start). Same result, zod's documented interpreted path.
  const parsed = aatConfigSchema.safeParse(input, { jitless: true });
  if (!parsed.success) {
    const context = { root: configFields, input, sources, file };
    for (const issue of parsed.error.issues) {
      if (envReading.failedPaths.has(issue.path.join("."))) continue;
      problems.push(...problemsFromIssue(issue, context));
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, envReading.warnings);

  return {
    config: resolvePaths(parsed.data, cwd),
    warnings: envReading.warnings,
    ...(file ? { file } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined;
}

/** Settings marked `path` are resolved against cwd so later code never depends on the process's cwd. */
function resolvePaths(config: AatConfig, cwd: string): AatConfig {
  const copy: unknown = structuredClone(config);
  for (const { path, meta } of listSettings(configFields)) {
    if (!meta.path || path.some((segment) => segment.startsWith("<"))) continue;
    const parent = getAt(copy, path.slice(0, -1));
    const key = path.at(-1)!;
    if (!isPlainObject(parent)) continue;
    const value = parent[key];
    const absolute = (item: string) => (isAbsolute(item) ? item : resolve(cwd, item));
    if (typeof value === "string") parent[key] = absolute(value);
    else if (Array.isArray(value))
      parent[key] = value.map((item) => (typeof item === "string" ? absolute(item) : item));
  }
  return copy as AatConfig;
}
