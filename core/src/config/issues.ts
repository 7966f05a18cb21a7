import type * as core from "zod/v4/core";
import { type ConfigProblem, showValue } from "./errors.js";
import { containsSecret, describeForm, envVarAt, objectKeys, schemaAt } from "./introspect.js";
import { closestName } from "./suggest.js";
import { getAt, type ValueSources } from "./values.js";

export interface IssueContext {
  root: core.$ZodType;
  /** The merged input that was parsed, to show offending values. */
  input: unknown;
  sources: ValueSources;
  /** The config file, when one was read. */
  file: string | undefined;
}

const TYPE_NAMES: Record<string, string> = {
  array: "a list",
  object: "an object",
  record: "an object",
  number: "a number",
  boolean: "a boolean",
  string: "a string",
};

function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : `${index ? "." : ""}${String(segment)}`,
    )
    .join("");
}

/** The longest prefix of the path whose source is known: array elements inherit their list's source. */
function sourceOf(path: readonly PropertyKey[], sources: ValueSources) {
  for (let length = path.length; length > 0; length--) {
    if (path.slice(0, length).some((segment) => typeof segment !== "string")) continue;
    const source = sources.get(path.slice(0, length).join("."));
    if (source) return { source, exact: length === path.length || typeof path[length] === "number" };
  }
  return undefined;
}

/** Where a value at this path came from, or could be set: the "(env X, file Y)" part of a problem. */
function locate(path: readonly PropertyKey[], context: IssueContext, isKnownKey: boolean) {
  const found = sourceOf(path, context.sources);
  if (found?.exact && "env" in found.source) return { env: found.source.env };
  const env = isKnownKey ? envVarAt(context.root, path) : undefined;
  const fromFile = found?.exact ? "file" in found.source : context.file !== undefined;
  return { ...(env ? { env } : {}), ...(fromFile && context.file ? { file: context.file } : {}) };
}

function describeProblem(issue: core.$ZodIssue, value: unknown, secret: boolean): string {
  const shown = showValue(value, secret);
  if (value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value"))
    return "missing";
  switch (issue.code) {
    case "invalid_type":
      return `${shown} is not ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `${shown} is not allowed`;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) <= 1 ? "is empty" : `${shown} is too short`;
      if (issue.origin === "array")
        return Number(issue.minimum) <= 1 ? "is an empty list" : "has too few entries";
      return `${shown} is too small`;
    case "too_big":
      if (issue.origin === "string") return `${shown} is too long`;
      if (issue.origin === "array") return "has too many entries";
      return `${shown} is too large`;
    case "invalid_format":
      return issue.format === "url"
        ? `${shown} is not a valid URL of the accepted kind`
        : `${shown} has the wrong form`;
    default:
      return issue.message;
  }
}

/** Turns one zod issue into problems (several for unknown keys), never showing a secret's value. */
export function problemsFromIssue(issue: core.$ZodIssue, context: IssueContext): ConfigProblem[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const allowed = objectKeys(schemaAt(context.root, path));
    return issue.keys.map((unknownKey) => {
      const suggestion = closestName(unknownKey, allowed);
      return {
        key: formatKey([...path, unknownKey]),
        ...locate([...path, unknownKey], context, false),
        problem: `unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`,
        expected: `one of: ${allowed.join(", ")}`,
      };
    });
  }

  const schema = schemaAt(context.root, path);
  if (issue.code === "invalid_key") {
    const keyName = String(path.at(-1));
    const reason = issue.issues[0]?.message.replace(/^must be /, "") ?? "a valid name";
    return [
      {
        key: formatKey(path),
        ...locate(path, context, false),
        problem: `${JSON.stringify(keyName)} is not a valid name`,
        expected: reason,
      },
    ];
  }

  // A path outside the schema can only hold input nobody declared: treat it as secret to be safe.
  const secret = schema === undefined || containsSecret(schema);
  const customExpected = issue.code === "custom" ? (issue.params?.expected as string | undefined) : undefined;
  return [
    {
      key: formatKey(path),
      ...locate(path, context, schema !== undefined),
      problem: describeProblem(issue, getAt(context.input, path), secret),
      expected: customExpected ?? (schema ? describeForm(schema) : "a value this version knows"),
    },
  ];
}
