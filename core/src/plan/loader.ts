import { isMap, isNode, isSeq, LineCounter, type Node, parseDocument, type YAMLError } from "yaml";
import { fromJSONSchema } from "zod";
import { type CheckOptions, checkPlan } from "./checks.js";
import { provideJsonSchemaReader } from "./json-schema.js";
import { formatPlanError, type PlanLoadError, PlanLoadFailure } from "./load-errors.js";
import { checkRawPlan } from "./raw-checks.js";
import { type PlanDefinition, planDefinition } from "./schema.js";
import { type DocPath, formatPath } from "./structure.js";
import { keyText, type SourcePosition, YamlLocator } from "./yaml-locate.js";
import { describeIssues, type LocatedProblem } from "./zod-issues.js";

export { formatPlanError, type PlanLoadError, PlanLoadFailure };

// The plan checks read JSON Schemas with classic zod's reader; the loader is where every plan a user
// writes is checked, and it is not part of a serverless handler's start (json-schema.ts).
provideJsonSchemaReader(fromJSONSchema);

export type LoadResult = { ok: true; definition: PlanDefinition } | { ok: false; errors: PlanLoadError[] };

export type LoadOptions = { file: string } & CheckOptions;

/**
 * Parse, validate and check a plan written in YAML. Every problem found is reported, each pointing at
 * the exact node in the source: syntax errors, duplicate keys, schema errors, then the plan checks.
 */
export function loadPlanFile(text: string, options: LoadOptions): LoadResult {
  const { file } = options;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const locator = new YamlLocator(doc, lines);
  if (doc.errors.length > 0) {
    // Later syntax errors at the same place are usually the same mistake seen again.
    const first = new Map<string, PlanLoadError>();
    for (const e of doc.errors.map((error) => syntaxError(error, file, locator))) {
      const at = `${e.line}:${e.column}`;
      if (!first.has(at)) first.set(at, e);
    }
    return failure([...first.values()]);
  }
  const errors = duplicateKeys(doc.contents, []).map(({ node, path, first }) => ({
    file,
    ...locator.at(node.range?.[0] ?? 0),
    path: formatPath(path),
    message: `duplicate key "${path[path.length - 1]}" (first at line ${locator.at(first.range?.[0] ?? 0).line}); a key may appear only once in a mapping, remove one of them`,
  }));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return failure([
      { file, line: 1, column: 1, path: "", message: `cannot read the YAML: ${(error as Error).message}` },
    ]);
  }
  return validate(raw, options, errors, (problem) =>
    locator.locate(problem.at?.path ?? problem.path, problem.at ?? {}),
  );
}

/** Validate an already parsed plan (API JSON): same checks and messages, positions unknown (0). */
export function loadPlanDefinition(value: unknown, options: Partial<LoadOptions> = {}): LoadResult {
  return validate(value, { ...options, file: options.file ?? "" }, [], () => ({ line: 0, column: 0 }));
}

function validate(
  raw: unknown,
  options: LoadOptions,
  earlier: PlanLoadError[],
  locate: (problem: LocatedProblem) => SourcePosition,
): LoadResult {
  const toError = (problem: LocatedProblem): PlanLoadError => ({
    file: options.file,
    ...locate(problem),
    path: formatPath(problem.path),
    message: problem.message,
  });
  const parsed = planDefinition.safeParse(raw);
  if (!parsed.success) {
    const problems = [...describeIssues(parsed.error.issues, raw), ...checkRawPlan(raw, options)];
    return failure([...earlier, ...problems.map(toError)]);
  }
  const problems = checkPlan(parsed.data, options);
  if (problems.length === 0 && earlier.length === 0) return { ok: true, definition: parsed.data };
  return failure([...earlier, ...problems.map(toError)]);
}

/** Sorted by position (document order), duplicates dropped. */
function failure(errors: PlanLoadError[]): LoadResult {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const key = `${e.line}:${e.column}:${e.path}:${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors: unique };
}

const SYNTAX_HINTS: Partial<Record<YAMLError["code"], string>> = {
  MULTIPLE_DOCS:
    "a plan file holds one YAML document; remove the `---` separator or put each plan in its own file",
  TAB_AS_INDENT: "tabs cannot indent YAML; indent with spaces",
};

function syntaxError(error: YAMLError, file: string, locator: YamlLocator): PlanLoadError {
  const message = SYNTAX_HINTS[error.code] ?? `invalid YAML: ${error.message}`;
  return { file, ...locator.at(error.pos[0]), path: "", message };
}

interface DuplicateKey {
  node: Node;
  path: DocPath;
  first: Node;
}

function duplicateKeys(node: unknown, path: DocPath): DuplicateKey[] {
  const out: DuplicateKey[] = [];
  if (isMap(node)) {
    const seen = new Map<string, Node>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      if (key === undefined || !isNode(pair.key)) continue;
      const first = seen.get(key);
      if (first) out.push({ node: pair.key, path: [...path, key], first });
      else seen.set(key, pair.key);
      out.push(...duplicateKeys(pair.value, [...path, key]));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      out.push(...duplicateKeys(item, [...path, i]));
    });
  }
  return out;
}

/** Where `path` is in a YAML text (the deepest existing node on the way). */
export function locateInYaml(text: string, path: DocPath): SourcePosition {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  return new YamlLocator(doc, lines).locate(path);
}
