/**
 * Error stacks mapped to the TypeScript sources on demand, when an error is logged: the bundles run
 * without `--enable-source-maps` (which reads and parses every loaded file's map at load time and turns
 * off the shipped code cache: docs/decisions.md, "Stack traces mapped when logged").
 *
 * A frame (`at fn (/var/task/chunk-X.js:1:2345)`, `at file:///var/task/index.mjs:1:99`) whose file has a
 * source map (`<file>.map` beside it, or the one the file's own sourceMappingURL comment names) is rewritten to
 * the original position (`at fn (/src/x.ts:12:5)`, the source resolved against the map as Node resolves
 * it); other frames stay as they are. Maps are read once per file and kept. Regular and index maps
 * (`sections`) are decoded by Node's own source map implementation (`module.SourceMap`, what
 * `--enable-source-maps` uses): built into node, loaded on the first error and synchronous, so a log
 * line is mapped and written in the call that logs it (no reordering, nothing held back), and nothing
 * is added to what a cold start loads but the few functions in this file. Nothing here throws: on any
 * failure the stack is returned as it was.
 */

/** The parts of node:module's SourceMap used here (0-based positions). */
interface NodeSourceMap {
  findEntry(line: number, column: number): Entry;
}

/** A mapping as findEntry returns it (an empty object when there is none). */
interface Entry {
  generatedLine?: number;
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
  name?: string;
}

interface FileMap {
  map: NodeSourceMap;
  /** The map's own URL (sources are relative to it), a file: URL. */
  url: URL;
  sourceRoot: string;
}

type Builtins = {
  fs: typeof import("node:fs");
  url: typeof import("node:url");
  SourceMap: new (payload: unknown) => NodeSourceMap;
};

let builtins: Builtins | undefined;
/** node:fs, node:url and node:module's SourceMap, got on the first error (node:module is not loaded at start). */
function nodeBuiltins(): Builtins {
  builtins ??= {
    fs: process.getBuiltinModule("node:fs"),
    url: process.getBuiltinModule("node:url"),
    SourceMap: (process.getBuiltinModule("node:module") as { SourceMap: Builtins["SourceMap"] }).SourceMap,
  };
  return builtins;
}

/** Each file's map (null: none, or unreadable), by the frame's file as written (path or file: URL). */
const maps = new Map<string, FileMap | null>();

/**
 * `    at name (location)` or `    at location`, the location a file path or file: URL with line and
 * column; eval frames, node: internals and native frames do not match and stay as they are.
 */
const FRAME = /^(\s*at (?:.*? \()?)((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)(\)?)$/;
const MAPPING_URL = /\/\/[#@] sourceMappingURL=(\S+)\s*$/;

/** The stack with each frame that has a source map pointing at the original source; never throws. */
export function mapStack(stack: string): string {
  if (typeof stack !== "string") return stack;
  const lines = stack.split("\n");
  // A frame is a short line; a long one is some message's text (and the pattern backtracks on it).
  const frames = lines.map((line) => (line.length <= 1_000 ? FRAME.exec(line) : null));
  let changed = false;
  for (let index = 0; index < lines.length; index++) {
    const frame = frames[index];
    if (!frame) continue;
    let mapped: string | undefined;
    try {
      mapped = mapFrame(frame, frames[index + 1]);
    } catch {
      // This frame stays as it is.
    }
    if (mapped !== undefined) {
      lines[index] = mapped;
      changed = true;
    }
  }
  return changed ? lines.join("\n") : stack;
}

/** The mapping at a frame's position: only one on the frame's own line (Node's lookup falls back to earlier lines). */
function entryAt(fileMap: FileMap, lineText: string, columnText: string): Entry | undefined {
  const line = Number(lineText) - 1;
  const entry = fileMap.map.findEntry(line, Number(columnText) - 1);
  return entry.generatedLine === line &&
    typeof entry.originalSource === "string" &&
    Number.isInteger(entry.originalLine) &&
    Number.isInteger(entry.originalColumn)
    ? entry
    : undefined;
}

/** `    at ` (with `async ` or `new `), then the function's name, then ` (`. */
const NAMED = /^(\s*at (?:async )?(?:new )?).+ \($/;

/**
 * One frame mapped, or undefined when it has no map (or no mapping at its position). Its function gets
 * its original name as Node's source-mapped stacks give it: the name at the call in the caller's frame,
 * when the caller is in the same file and the map names it there; else the name stays.
 */
function mapFrame(frame: RegExpExecArray, caller: RegExpExecArray | null | undefined): string | undefined {
  const [, head = "", file = "", lineText = "", columnText = "", tail = ""] = frame;
  const fileMap = mapOf(file);
  if (!fileMap) return undefined;
  const entry = entryAt(fileMap, lineText, columnText);
  if (!entry) return undefined;
  const source = new URL(fileMap.sourceRoot + entry.originalSource, fileMap.url);
  const shown =
    source.protocol === "file:" && !file.startsWith("file:")
      ? nodeBuiltins().url.fileURLToPath(source)
      : source.href;
  const name = caller?.[2] === file ? entryAt(fileMap, caller[3] ?? "", caller[4] ?? "")?.name : undefined;
  const named =
    typeof name === "string" && name !== ""
      ? head.replace(NAMED, (_, start: string) => `${start}${name} (`)
      : head;
  return `${named}${shown}:${entry.originalLine! + 1}:${entry.originalColumn! + 1}${tail}`;
}

function mapOf(file: string): FileMap | null {
  let found = maps.get(file);
  if (found === undefined) {
    try {
      found = readMap(file);
    } catch {
      found = null;
    }
    maps.set(file, found);
  }
  return found;
}

/** The map of a file: `<file>.map` beside it, else the one its sourceMappingURL comment names. */
function readMap(file: string): FileMap | null {
  const { fs, url, SourceMap } = nodeBuiltins();
  const fileUrl = file.startsWith("file:") ? new URL(file) : url.pathToFileURL(file);
  let mapUrl = new URL(`${fileUrl.href}.map`);
  let text: string;
  if (fs.existsSync(mapUrl)) {
    text = fs.readFileSync(mapUrl, "utf8");
  } else {
    const comment = MAPPING_URL.exec(fs.readFileSync(fileUrl, "utf8"));
    if (!comment) return null;
    mapUrl = new URL(comment[1]!, fileUrl);
    if (mapUrl.protocol === "data:") {
      const [meta = "", data = ""] = mapUrl.pathname.split(",", 2);
      text = meta.endsWith(";base64")
        ? Buffer.from(data, "base64").toString("utf8")
        : decodeURIComponent(data);
      mapUrl = fileUrl;
    } else {
      text = fs.readFileSync(mapUrl, "utf8");
    }
  }
  // The sources' text (most of a bundle's map) is not needed to map a position: not kept, nor copied by
  // SourceMap (a quarter of its time on a 5 MB map).
  const payload = JSON.parse(text, (key, value) => (key === "sourcesContent" ? undefined : value)) as {
    sourceRoot?: unknown;
  };
  if (!wellFormed(payload)) return null;
  const root = typeof payload.sourceRoot === "string" ? payload.sourceRoot : "";
  return {
    map: new SourceMap(payload),
    url: mapUrl,
    sourceRoot: root === "" || root.endsWith("/") ? root : `${root}/`,
  };
}

/**
 * Whether a map has the shape Node's SourceMap reads (it checks nothing itself and decodes any text):
 * sources as strings and mappings in the base64 VLQ alphabet, or sections of such maps at offsets.
 */
function wellFormed(map: unknown, depth = 0): boolean {
  if (typeof map !== "object" || map === null) return false;
  const { sections, sources, mappings } = map as {
    sections?: unknown;
    sources?: unknown;
    mappings?: unknown;
  };
  if (sections !== undefined)
    return (
      depth === 0 &&
      Array.isArray(sections) &&
      sections.every(
        (section: { offset?: { line?: unknown; column?: unknown }; map?: unknown }) =>
          Number.isInteger(section?.offset?.line) &&
          Number.isInteger(section?.offset?.column) &&
          wellFormed(section.map, depth + 1),
      )
    );
  return (
    Array.isArray(sources) &&
    sources.every((source) => typeof source === "string" || source === null) &&
    typeof mappings === "string" &&
    /^[A-Za-z0-9+/,;]*$/.test(mappings)
  );
}

/** An error as a log field: name, message and stack (mapped), and its cause the same way. */
function errorField(error: Error, depth: number): Record<string, unknown> {
  const field: Record<string, unknown> = { name: error.name, message: error.message };
  let stack: unknown;
  try {
    stack = error.stack; // a getter on V8's errors (Error.prepareStackTrace runs there)
  } catch {
    // Logged without a stack.
  }
  if (typeof stack === "string") field.stack = mapStack(stack);
  if (error.cause !== undefined && depth < 3)
    field.cause = error.cause instanceof Error ? errorField(error.cause, depth + 1) : error.cause;
  return field;
}

/**
 * A log line's fields with their stacks mapped: an Error value becomes `{ name, message, stack, cause? }`;
 * an object with a string `stack` (e.g. the HTTP API's `error: { name, message, stack }`) and a `stack`
 * field get the stack mapped. Fields without either are returned as they are (the same object).
 */
export function withMappedStacks(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    let next = value;
    if (value instanceof Error) next = errorField(value, 0);
    else if (typeof value === "string") {
      if (key === "stack") next = mapStack(value);
    } else if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as { stack?: unknown }).stack === "string"
    )
      next = { ...value, stack: mapStack((value as { stack: string }).stack) };
    if (next !== value) {
      out ??= { ...fields };
      out[key] = next;
    }
  }
  return out ?? fields;
}
