import * as core from "zod/v4/core";
import { NODE_TYPES, planDefinition } from "./schema.js";
import type { DocPath } from "./structure.js";
import { didYouMean } from "./suggest.js";

/** A problem plus where in the source it should point (the key of `path`, or another node). */
export interface LocatedProblem {
  path: DocPath;
  message: string;
  /** Node to point at when it is not the value at `path`. */
  at?: { path: DocPath; key?: boolean };
}

/**
 * Turns zod's issues for a PlanDefinition into messages a plan author can act on: unknown keys point
 * at the key (with a "did you mean"), missing keys point at the mapping that lacks them, and an
 * unknown `type` lists the types there are.
 */
export function describeIssues(issues: readonly core.$ZodIssue[], raw: unknown): LocatedProblem[] {
  return issues.flatMap((issue) => describeIssue(issue, raw));
}

function describeIssue(issue: core.$ZodIssue, raw: unknown): LocatedProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const value = valueAt(raw, path);
  const present = value.found;
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(raw, path);
      return issue.keys.map((key) => {
        const hint = allowed ? didYouMean(key, allowed) : "";
        const list = hint ? "" : allowed ? `; allowed here: ${allowed.join(", ")}` : "; remove it";
        return {
          path: [...path, key],
          message: `unknown key "${key}"${hint}${list}`,
          at: { path: [...path, key], key: true },
        };
      });
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined) {
        const options = ("options" in issue ? (issue.options ?? []) : []).map(String);
        const what = isTriggerPath(path) ? "trigger type" : isStepPath(path) ? "step type" : "type";
        const ordered = what === "step type" ? [...NODE_TYPES] : options;
        if (!present) {
          const parent = path[path.length - 1] === issue.discriminator ? path.slice(0, -1) : path;
          return [missingKey(parent, issue.discriminator, `; expected one of ${ordered.join(", ")}`)];
        }
        const hint = typeof value.value === "string" ? didYouMean(value.value, ordered) : "";
        return [
          {
            path,
            message: `unknown ${what} ${JSON.stringify(value.value)}${hint}; expected one of ${ordered.join(", ")}`,
          },
        ];
      }
      if (!present) return [missingKey(path.slice(0, -1), String(path[path.length - 1]))];
      const expected = issue.errors.map((alternative) =>
        alternative.length === 1 &&
        alternative[0]!.code === "invalid_type" &&
        alternative[0]!.path.length === 0
          ? alternative[0]!.expected
          : undefined,
      );
      if (expected.every((e) => e !== undefined)) {
        return [
          { path, message: `expected ${expected.map(noun).join(" or ")}, got ${describe(value.value)}` },
        ];
      }
      const inner = issue.errors.find((alternative) => alternative.length > 0)?.[0];
      return [{ path, message: inner ? plainMessage(inner.message) : "does not match any allowed form" }];
    }
    case "invalid_type": {
      if (!present && path.length > 0) {
        return [missingKey(path.slice(0, -1), String(path[path.length - 1]))];
      }
      if (path.length === 0) {
        return [
          {
            path,
            message:
              value.value === undefined || value.value === null
                ? "the plan is empty; a plan needs at least id, workflow, title and steps"
                : `a plan must be a mapping of keys (id, workflow, title, steps, …), got ${describe(value.value)}`,
          },
        ];
      }
      return [{ path, message: `expected ${noun(issue.expected)}, got ${describe(value.value)}` }];
    }
    case "invalid_value": {
      const options = issue.values.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      const hint = typeof value.value === "string" ? didYouMean(value.value, options) : "";
      const expected = options.length === 1 ? options[0] : `one of ${options.join(", ")}`;
      return [{ path, message: `invalid value ${JSON.stringify(value.value)}${hint}; expected ${expected}` }];
    }
    case "invalid_format": {
      if (path[0] === "capabilities") {
        return [
          {
            path,
            message: `invalid capability ${JSON.stringify(value.value)}: use dotted lower-case names such as network.egress`,
          },
        ];
      }
      const reason = issue.message.startsWith("Invalid")
        ? issue.pattern
          ? `must match the pattern ${issue.pattern}`
          : issue.message
        : issue.message;
      return [{ path, message: `invalid value ${JSON.stringify(value.value)}: ${reason}` }];
    }
    case "too_small":
    case "too_big": {
      if (!issue.message.startsWith("Too ")) return [{ path, message: issue.message }];
      const small = issue.code === "too_small";
      const bound = Number(small ? issue.minimum : issue.maximum);
      const inclusive = issue.inclusive !== false;
      let message: string;
      if (issue.origin === "string") {
        message =
          small && bound === 1
            ? "must not be empty"
            : `must have ${small ? "at least" : "at most"} ${bound} characters`;
      } else if (issue.origin === "array" || issue.origin === "set") {
        message = `needs ${small ? "at least" : "at most"} ${bound} item${bound === 1 ? "" : "s"}`;
      } else {
        message = small
          ? `must be ${inclusive ? "at least" : "greater than"} ${bound}`
          : `must be ${inclusive ? "at most" : "less than"} ${bound}`;
      }
      return [{ path, message: `${message}, got ${describe(value.value)}` }];
    }
    default:
      return [{ path, message: plainMessage(issue.message) }];
  }
}

function missingKey(parent: DocPath, key: string, extra = ""): LocatedProblem {
  return {
    path: parent,
    message: `missing required key "${key}"${extra || `; add \`${key}:\` here`}`,
    at: { path: parent },
  };
}

function plainMessage(message: string): string {
  return message.replace(/^Invalid input: /, "");
}

function noun(type: string): string {
  switch (type) {
    case "object":
    case "record":
      return "a mapping (key: value)";
    case "array":
      return "a list";
    case "int":
      return "an integer";
    case "boolean":
      return "true or false";
    default:
      return `a ${type}`;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) {
    return value.length === 0
      ? "an empty list"
      : `a list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  }
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return String(value);
}

function valueAt(raw: unknown, path: DocPath): { found: boolean; value: unknown } {
  let current: unknown = raw;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return { found: false, value: undefined };
    const record = current as Record<string | number, unknown>;
    if (!Object.hasOwn(record, segment)) return { found: false, value: undefined };
    current = record[segment];
  }
  return { found: current !== undefined, value: current };
}

function isStepPath(path: DocPath): boolean {
  return path[path.length - 1] === "type" && path[path.length - 3] === "steps";
}

function isTriggerPath(path: DocPath): boolean {
  return path.length === 3 && path[0] === "triggers";
}

/** Keys the schema accepts for the mapping at `path` (the step type decides for steps). */
function allowedKeys(raw: unknown, path: DocPath): string[] | undefined {
  // The zod core classes: their instanceof checks hold for classic and zod/mini schemas alike.
  let schema: core.$ZodType | undefined = planDefinition;
  let value: unknown = raw;
  schema = unwrap(schema, value);
  for (const segment of path) {
    if (schema instanceof core.$ZodObject) schema = schema._zod.def.shape[String(segment)];
    else if (schema instanceof core.$ZodArray) schema = schema._zod.def.element;
    else if (schema instanceof core.$ZodRecord) schema = schema._zod.def.valueType;
    else return undefined;
    value =
      value !== null && typeof value === "object" ? (value as Record<string, unknown>)[segment] : undefined;
    schema = unwrap(schema, value);
  }
  return schema instanceof core.$ZodObject ? Object.keys(schema._zod.def.shape) : undefined;
}

function unwrap(schema: core.$ZodType | undefined, value: unknown): core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; depth < 20 && current; depth++) {
    if (
      current instanceof core.$ZodOptional ||
      current instanceof core.$ZodDefault ||
      current instanceof core.$ZodNullable
    ) {
      current = current._zod.def.innerType;
    } else if (current instanceof core.$ZodLazy) {
      current = current._zod.innerType;
    } else if (current instanceof core.$ZodPipe) {
      current = current._zod.def.in;
    } else if (current instanceof core.$ZodDiscriminatedUnion) {
      const key = current._zod.def.discriminator;
      const tag =
        value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
      current = current._zod.def.options.find((option) => {
        if (!(option instanceof core.$ZodObject)) return false;
        const literal = option._zod.def.shape[key];
        return literal instanceof core.$ZodLiteral && literal._zod.values.has(tag as core.util.Literal);
      });
    } else {
      return current;
    }
  }
  return current;
}
