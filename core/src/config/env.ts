import type * as core from "zod/v4/core";
import { type ConfigProblem, showValue } from "./errors.js";
import {
  containsSecret,
  describeForm,
  type EnvValueKind,
  envValueKind,
  listSettings,
  type SettingInfo,
} from "./introspect.js";
import { closestName } from "./suggest.js";
import { setAt, type ValueSources } from "./values.js";

/** Environment variables read outside the schema. */
export const CONFIG_FILE_ENV = "AAT_CONFIG";

export type Environment = Readonly<Record<string, string | undefined>>;

export interface EnvReading {
  /** Nested values, shaped like the config file. */
  values: Record<string, unknown>;
  /** Dotted path → the variable that supplied it. */
  sources: ValueSources;
  problems: ConfigProblem[];
  /** Dotted paths whose variable could not be parsed (zod would only repeat the complaint). */
  failedPaths: Set<string>;
  warnings: string[];
}

type ParseResult = { ok: true; value: unknown } | { ok: false; problem: string };

function parseEnvValue(raw: string, kind: EnvValueKind, secret: boolean): ParseResult {
  const text = raw.trim();
  switch (kind) {
    case "string":
      return { ok: true, value: text };
    case "number":
      return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, problem: `${showValue(text, secret)} is not a number` };
    case "boolean": {
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "1") return { ok: true, value: true };
      if (lower === "false" || lower === "0") return { ok: true, value: false };
      return { ok: false, problem: `${showValue(text, secret)} is not a boolean` };
    }
    case "list": {
      if (!text.startsWith("[")) {
        return {
          ok: true,
          value: text
            .split(",")
            .map((item) => item.trim())
            .filter((item) => item !== ""),
        };
      }
      const parsed = parseJson(text);
      if (!parsed.ok) return parsed;
      return Array.isArray(parsed.value) && parsed.value.every((item) => typeof item === "string")
        ? parsed
        : { ok: false, problem: "is a JSON value but not an array of strings" };
    }
    case "json-list": {
      const parsed = parseJson(text);
      if (!parsed.ok) return parsed;
      return Array.isArray(parsed.value) ? parsed : { ok: false, problem: "is valid JSON but not an array" };
    }
    case "json": {
      const parsed = parseJson(text);
      if (!parsed.ok) return parsed;
      const value = parsed.value;
      return typeof value === "object" && value !== null && !Array.isArray(value)
        ? parsed
        : { ok: false, problem: "is valid JSON but not an object" };
    }
  }
}

/** JSON.parse messages quote the input, which may hold secrets, so none of the message is passed on. */
function parseJson(text: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: "is not valid JSON" };
  }
}

interface EnvTemplate {
  pattern: RegExp;
  /** Length of the fixed text after the placeholder; the longest wins when templates overlap. */
  suffixLength: number;
  prefix: string;
  suffix: string;
  /** Its schema is read only when a variable matches (a tabled section is built then: section.ts). */
  setting: SettingInfo;
}

function compileTemplate(template: string, setting: SettingInfo): EnvTemplate {
  const [prefix = "", suffix = ""] = template.split(/<[A-Z]+>/);
  return {
    pattern: new RegExp(`^${prefix}([A-Za-z0-9_]+?)${suffix}$`),
    suffixLength: suffix.length,
    prefix,
    suffix,
    setting,
  };
}

/**
 * Reads every setting's variable. Values of the wrong form become problems attributed to their variable;
 * AAT_* variables that match no setting become warnings with a did-you-mean.
 */
export function readEnv(root: core.$ZodType, env: Environment): EnvReading {
  const reading: EnvReading = {
    values: {},
    sources: new Map(),
    problems: [],
    failedPaths: new Set(),
    warnings: [],
  };
  const known = new Set<string>([CONFIG_FILE_ENV]);
  const templates: EnvTemplate[] = [];

  const apply = (variable: string, raw: string, path: string[], schema: core.$ZodType) => {
    const key = path.join(".");
    const secret = containsSecret(schema);
    const parsed = parseEnvValue(raw, envValueKind(schema), secret);
    if (!parsed.ok) {
      reading.problems.push({ key, env: variable, problem: parsed.problem, expected: describeForm(schema) });
      reading.failedPaths.add(key);
      return;
    }
    setAt(reading.values, path, parsed.value, reading.sources, { env: variable });
  };

  // Settings come in schema order, so a JSON map (AAT_MODELS_JSON) is applied before the per-field
  // variables inside it (AAT_MODEL_<ALIAS>_*), which therefore override it.
  const settings = listSettings(root);
  for (const setting of settings) {
    const { path, meta } = setting;
    if (!meta.env) continue;
    if (meta.env.includes("<")) {
      templates.push(compileTemplate(meta.env, setting));
      continue;
    }
    known.add(meta.env);
    const variable = [meta.env, ...(meta.envAliases ?? [])].find((name) => (env[name] ?? "").trim() !== "");
    if (variable) apply(variable, env[variable]!, path, setting.schema);
  }

  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith("AAT_") || known.has(variable)) continue;
    const matches = templates
      .map((template) => ({ template, match: template.pattern.exec(variable) }))
      .filter((candidate) => candidate.match !== null)
      .sort((a, b) => b.template.suffixLength - a.template.suffixLength);
    const best = matches[0];
    if (best?.match) {
      if ((raw ?? "").trim() === "") continue;
      const mapKey = best.match[1]!.toLowerCase();
      const { setting } = best.template;
      const path = setting.path.map((segment) => (segment.startsWith("<") ? mapKey : segment));
      apply(variable, raw!, path, setting.schema);
      continue;
    }
    const suggestion = closestName(variable, [...known, ...templateGuesses(variable, templates)]);
    reading.warnings.push(
      `unknown environment variable ${variable}${suggestion ? `: did you mean ${suggestion}?` : " is ignored"}`,
    );
  }
  return reading;
}

/** Instantiates templates with the map keys a misspelt variable might contain, so it can be matched. */
function templateGuesses(variable: string, templates: readonly EnvTemplate[]): string[] {
  const guesses: string[] = [];
  for (const { prefix, suffix } of templates) {
    if (!variable.startsWith(prefix)) continue;
    const rest = variable.slice(prefix.length);
    for (let end = rest.indexOf("_"); end > 0; end = rest.indexOf("_", end + 1)) {
      guesses.push(prefix + rest.slice(0, end) + suffix);
    }
    guesses.push(prefix + rest + suffix);
  }
  return guesses;
}
