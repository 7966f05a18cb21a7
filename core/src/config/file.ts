import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { ConfigProblem } from "./errors.js";
import { isPlainObject, type PlainObject } from "./values.js";

export type FileReading = { ok: true; values: PlainObject } | { ok: false; problem: ConfigProblem };

const FILE_FORM = "a readable YAML or JSON file holding one object";

/**
 * Reads a YAML or JSON config file. Parser messages quote the offending text, which may be a secret, so
 * problems carry only the position and the parser's error code.
 */
export function readConfigFile(path: string, namedBy: string | undefined): FileReading {
  const fail = (problem: string): FileReading => ({
    ok: false,
    problem: {
      key: "config file",
      ...(namedBy ? { env: namedBy } : {}),
      file: path,
      problem,
      expected: FILE_FORM,
    },
  });

  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return fail("file not found");
    if (code === "EISDIR") return fail("is a directory");
    return fail(`cannot be read (${code ?? "unknown error"})`);
  }

  // JSON is YAML 1.2, so one parser serves both and reports line and column for either.
  const document = parseDocument(text);
  const [first] = document.errors;
  if (first) {
    const at = first.linePos?.[0];
    return fail(
      `is not valid YAML or JSON (${first.code}${at ? ` at line ${at.line}, column ${at.col}` : ""})`,
    );
  }
  const value: unknown = document.toJS();

  if (value === null || value === undefined) return { ok: true, values: {} };
  if (!isPlainObject(value))
    return fail(`holds ${Array.isArray(value) ? "a list" : `a ${typeof value}`}, not an object`);
  return { ok: true, values: value };
}
