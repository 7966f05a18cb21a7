/**
 * The build output `npm run build:functions` makes by default (docs/decisions.md, session 11): a handler
 * bundle that carries a V8 code cache of its own code, made at build time by a node of the runtime's major
 * version and arch, started with the V8 flags the runtime passes, so that a cold start deserializes
 * compiled code instead of parsing and compiling it (docs/benchmarks.md, cold start).
 *
 * Why not Node's module compile cache (`module.enableCompileCache`, the first version of this): Node takes
 * a module's cache right after compiling it, before it runs, so the cache holds the top-level code only.
 * Most of a handler's import is spent compiling the functions its modules call while they load (zod
 * building the config and plan schemas, the runner's setup): V8 compiles those lazily, on first call, and
 * Node's cache never has them. V8 can serialize them once they have run (`vm.Script#createCachedData`),
 * but only for scripts: ES modules offer that only behind --experimental-vm-modules.
 *
 * So the bundle's modules (index.mjs and its chunks, as esbuild splits them) are turned into scripts:
 * 1. each .mjs file is converted by esbuild to a CommonJS module body (its imports become `require`, its
 *    exports `module.exports`, `import("./chunk-….mjs")` a `require` in a promise) and written as .js
 *    beside it, with its source map composed back to the TypeScript sources; the .mjs files are removed.
 *    The loader compiles a body inside the wrapper Node's CommonJS loader uses (exports, require, module,
 *    __filename, __dirname);
 * 2. index.mjs becomes a small loader that runs `main.js` and re-exports its exports. It loads each
 *    script once (a chunk shared by several importers is one instance, as with ES modules), with the
 *    cache `code-cache/v<major>-<arch>/<script>` when there is one for this node's major version and
 *    arch, and `require`s anything else (node built-ins, packages the host provides) with Node's own
 *    require. The start's scripts are also packed into one (start.js, with an index source map), which
 *    the loader runs with its cache;
 * 3. the cache is made by running the bundle's import under each target node
 *    (compile-cache-generate.mjs): the scripts the import loads are cached with every function that ran,
 *    the rest (chunks loaded on first use) compiled and cached without running. `made-by.json` beside
 *    the cache names the node and flags that made it, for the runtime's warning when V8 refuses it.
 * V8 checks the data it is given (its version, its flags, the source): data it does not accept (another
 * release line of the major, e.g. 22.22 for a cache made by 22.23, or other V8 flags) is rejected and the
 * script compiles as usual, which the runtime reports once (code-cache-status.ts). Nothing is written at
 * run time: the deployed folder may be read-only.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import remapping from "@jridgewell/remapping";
import { transformSync } from "esbuild";
import type { BundleResult } from "./bundle.js";
import { REQUIRE_BANNER } from "./bundle-banner.js";
import { CACHE_DIR, MADE_BY, MAIN, PACK, SCRIPTS_KEY } from "./compile-cache-names.js";

export interface CompileCacheTarget {
  /**
   * A node binary of the runtime's major version and arch; V8 accepts the cache on the runtime when its
   * release line matches (runtime-node.ts fetches the pinned one).
   */
  node: string;
  /** A command that runs `node` when its arch is not this machine's (qemu user mode: runtime-node.ts). */
  emulator?: string[];
  /**
   * The V8 flags the runtime starts node with (they enter V8's cache tag): e.g. Lambda's Node runtime
   * starts node with `--expose-gc --max-semi-space-size=… --max-old-space-size=…` (sizes from the
   * function's memory). Default none.
   */
  flags?: string[];
}

export interface CompileCacheInfo {
  /** One per target: `v<major>-<arch>`. */
  tags: string[];
  /** Bytes of the cache files. */
  bytes: number;
}

export { CACHE_DIR, MADE_BY, MAIN, PACK, SCRIPTS_KEY };

const GENERATOR = fileURLToPath(new URL("./compile-cache-generate.mjs", import.meta.url));

/**
 * Whether a node binary can make and use the cache: the loader needs `process.getBuiltinModule` and
 * `vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER` (Node >= 20.16 and 22.3).
 */
export function supportsCompileCache(node: string): boolean {
  const run = spawnSync(
    node,
    [
      "-p",
      "typeof process.getBuiltinModule + typeof require('node:vm').constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER",
    ],
    { encoding: "utf8" },
  );
  return run.status === 0 && run.stdout.trim() === "functionsymbol";
}

/**
 * The first line of every script: strict mode (the modules were), and `import.meta.url` for the few
 * that read it (computed per script at every start, so only where used). The converted module follows
 * on the next line, so the composed map moves down one.
 */
const scriptHead = (code: string) =>
  `"use strict";${code.includes("__aatUrl") ? `var __aatUrl=require("node:url").pathToFileURL(__filename).href;` : ""}\n`;

/** `./chunk-X.mjs` as esbuild names a chunk → the script it becomes. */
const scriptOf = (file: string) =>
  `${basename(file, ".mjs") === "index" ? "main" : basename(file, ".mjs")}.js`;

// esbuild's CommonJS exports: a namespace object of getters (live bindings), then a copy of it with
// __esModule whose getters call the namespace's. The copy doubles the getters defined at load and the
// calls on every cross-chunk reference; marking the namespace itself is the same module.exports to
// every reader (the same keys, getters and __esModule).
const TO_COMMON_JS =
  'var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);';
const DIRECT_COMMON_JS = 'var __toCommonJS = (mod) => __defProp(mod, "__esModule", { value: true });';

function withDirectExports(code: string, file: string): string {
  if (!code.includes("__toCommonJS(")) return code;
  if (!code.includes(TO_COMMON_JS))
    throw new Error(
      `${file}: esbuild's __toCommonJS helper changed; update TO_COMMON_JS in compile-cache.ts`,
    );
  return code.replace(TO_COMMON_JS, DIRECT_COMMON_JS);
}

/** Turns one of the bundle's ES module files into its script (and source map) beside it. */
function toScript(file: string): { script: string; bytes: number } {
  const source = readFileSync(file, "utf8");
  if (!source.startsWith(REQUIRE_BANNER))
    throw new Error(
      `${file} does not start with the bundle's require banner (functions/serverless/src/bundle-banner.ts)`,
    );
  const name = basename(file);
  const script = scriptOf(file);
  const commonJs = transformSync(source.slice(REQUIRE_BANNER.length), {
    format: "cjs",
    loader: "js",
    platform: "node",
    target: "node20",
    // `import("./chunk-….mjs")` → `Promise.resolve().then(() => require(…))`: the loader's require.
    supported: { "dynamic-import": false },
    define: { "import.meta.url": "__aatUrl" }, // set by scriptHead
    sourcemap: "external",
    sourcefile: name,
    logLevel: "error",
  });
  const converted = transformSync(withDirectExports(commonJs.code, file), {
    format: "cjs", // a module's scope: top-level names are minified too
    loader: "js",
    platform: "node",
    target: "node20",
    minify: true,
    sourcemap: "external",
    sourcefile: `${name}.cjs`,
    logLevel: "error",
  });
  const chunkMap = JSON.parse(readFileSync(`${file}.map`, "utf8"));
  const commonJsMap = JSON.parse(commonJs.map);
  const map = remapping(JSON.parse(converted.map), (source) =>
    source === `${name}.cjs` ? commonJsMap : source === name ? chunkMap : null,
  );
  map.file = script;
  map.mappings = `;${map.mappings}`;
  const text = `${scriptHead(converted.code)}${converted.code}//# sourceMappingURL=${script}.map\n`;
  // The loader reads scripts as latin1 (a plain copy into a one-byte string, ~2 ms less of a cold start
  // than decoding UTF-8), which is the same text only for ASCII: esbuild escapes everything else.
  if (Buffer.byteLength(text) !== text.length)
    throw new Error(
      `${file}: the script has a non-ASCII character; the code cache loader reads scripts as latin1 (esbuild's charset must stay ascii)`,
    );
  const dir = dirname(file);
  writeFileSync(join(dir, script), text);
  writeFileSync(join(dir, `${script}.map`), JSON.stringify(map));
  rmSync(file);
  rmSync(`${file}.map`);
  return { script, bytes: Buffer.byteLength(text) };
}

/**
 * start.js: one expression, an object mapping each start script's name to its body as a module function;
 * and its source map, an index map with one section per body (the body's own map, from where the body
 * starts), so that a stack frame in start.js maps to the TypeScript as a frame in the script does.
 */
function pack(dir: string, names: string[]): { text: string; map: string } {
  let text = "({\n";
  const sections: Array<{ offset: { line: number; column: number }; map: unknown }> = [];
  for (const [index, name] of names.entries()) {
    const body = readFileSync(join(dir, name), "utf8").replace(/\/\/# sourceMappingURL=\S+\n$/, "");
    const head = `${index === 0 ? "" : ",\n"}${JSON.stringify(name)}: function (exports, require, module, __filename, __dirname) {`;
    text += head;
    const lines = text.split("\n");
    sections.push({
      offset: { line: lines.length - 1, column: lines.at(-1)!.length },
      map: JSON.parse(readFileSync(join(dir, `${name}.map`), "utf8")),
    });
    text += `${body}\n}`;
  }
  text += `\n})\n//# sourceMappingURL=${PACK}.map\n`;
  return { text, map: JSON.stringify({ version: 3, file: PACK, sections }) };
}

/**
 * The loader written as index.mjs; `exports` are the entry's export names. It counts on nothing but node
 * built-ins (vm, fs, module), and writes nothing.
 */
function loader(exports: string[]): string {
  const reexports = exports.map((name) =>
    name === "default" ? "export default main.default;" : `export const ${name} = main.${name};`,
  );
  return `// The code cache loader (functions/serverless/src/compile-cache.ts): runs this bundle's scripts with the
// V8 code cache in ${CACHE_DIR}/v<major>-<arch>/ made for this node's major and arch, or without one.
// Built-ins through process.getBuiltinModule: an ES import of node:fs alone costs ~2.3 ms of CPU (Node
// builds its ES facade by reading every export, fs.promises too, which loads streams and readline).
const { readFileSync } = process.getBuiltinModule("node:fs");
const { fileURLToPath } = process.getBuiltinModule("node:url");
const { constants, Script } = process.getBuiltinModule("node:vm");

// Paths by concatenation (the folder's path ends with its separator): a URL per script costs more.
const dirname = fileURLToPath(new URL("./", import.meta.url));
const major = process.versions.node.slice(0, process.versions.node.indexOf("."));
const cacheDir = \`\${dirname}${CACHE_DIR}/v\${major}-\${process.arch}/\`;
const CHUNK = /^\\.\\/chunk-[\\w-]+\\.mjs$/;
// Node's require for what is not a chunk: built-ins directly, packages the host provides (e.g. the
// Functions Framework) through createRequire, made only when one is required (node:module costs ~0.4 ms).
let hostRequire;
const nodeRequire = (specifier) =>
  process.getBuiltinModule(specifier) ??
  (hostRequire ??= process.getBuiltinModule("node:module").createRequire(import.meta.url))(specifier);
/**
 * The scripts run so far (name → { script, module, cache }), how one is compiled, start.js's module
 * functions by script name (their cache is start.js's) and the cache folder: for the generator, the
 * runtime's report of a refused cache (code-cache-status.ts) and tests.
 */
const registry = { scripts: new Map(), compile, packed: undefined, cacheDir };
globalThis[Symbol.for("${SCRIPTS_KEY}")] = registry;

/**
 * A script as V8 compiles (and caches) it: start.js is one expression, the module functions; any other
 * is a CommonJS body, put in the wrapper Node's own CommonJS loader uses (on its first line).
 */
function compile(name, cachedData) {
  const filename = dirname + name;
  // latin1: the scripts are ASCII (checked at build), and a one-byte copy is cheaper than UTF-8 decoding.
  const source = readFileSync(filename, "latin1");
  const code = name === "${PACK}" ? source : \`(function (exports, require, module, __filename, __dirname) {\${source}\\n})\`;
  return new Script(code, { filename, cachedData, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
}

/** Compiles a script with this node's cache when there is one; registers it with whether V8 took the cache. */
function compiled(name, module) {
  let cachedData;
  try {
    cachedData = readFileSync(cacheDir + name);
  } catch {
    // No cache for this node: the script compiles as usual.
  }
  const script = compile(name, cachedData);
  const cache = cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "accepted";
  registry.scripts.set(name, { script, module, cache });
  return { script, cache };
}

function load(name) {
  const loaded = registry.scripts.get(name);
  if (loaded) return loaded.module.exports;
  const filename = dirname + name;
  const module = { exports: {} };
  const require = (specifier) => (CHUNK.test(specifier) ? load(\`\${specifier.slice(2, -4)}.js\`) : nodeRequire(specifier));
  // __dirname as Node's CommonJS loader gives it: without the trailing separator.
  const run = (fn) => fn.call(module.exports, module.exports, require, module, filename, dirname.slice(0, -1));
  if (process.sourceMapsEnabled) {
    // Node maps stack traces through the source maps of what its own loaders compile, not of vm scripts
    // (nodejs/node#52102): with --enable-source-maps the scripts are compiled as CommonJS modules, without
    // the cache (or start.js), their chunks still loaded by this loader.
    const nodeModule = new (process.getBuiltinModule("node:module").Module)(filename);
    nodeModule.filename = filename;
    nodeModule.require = require;
    registry.scripts.set(name, { module: nodeModule, cache: "none" });
    nodeModule._compile(readFileSync(filename, "utf8"), filename);
    return nodeModule.exports;
  }
  if (!registry.packed) registry.packed = compiled("${PACK}", { exports: undefined }).script.runInThisContext();
  const packed = registry.packed[name];
  if (packed) {
    registry.scripts.set(name, { module, cache: registry.scripts.get("${PACK}").cache });
    run(packed);
  } else {
    run(compiled(name, module).script.runInThisContext());
  }
  return module.exports;
}

const main = load("${MAIN}");
${reexports.join("\n")}
`;
}

/**
 * Turns a bundle written by bundleEntry into its scripted form with a code cache for each target (see the
 * top of this file). Returns the result with the loader and the scripts as its files and start files.
 */
export function addCompileCache(result: BundleResult, targets: CompileCacheTarget[]): BundleResult {
  if (targets.length === 0) throw new Error("addCompileCache: no target node binary");
  const dir = dirname(result.file);
  const entryPath = Object.keys(result.metafile.outputs).find((path) => resolve(path) === result.file);
  const exports = entryPath ? result.metafile.outputs[entryPath]!.exports : undefined;
  if (!exports) throw new Error(`addCompileCache: ${result.file} is not in the bundle's metafile`);
  const scripts = new Map(result.files.map(({ file }) => [file, toScript(file)]));
  const packed = pack(
    dir,
    result.startFiles.map((file) => scripts.get(file)!.script),
  );
  const packText = packed.text;
  writeFileSync(join(dir, PACK), packText);
  writeFileSync(join(dir, `${PACK}.map`), packed.map);
  const loaderText = loader(exports);
  writeFileSync(result.file, loaderText);
  const out = join(dir, CACHE_DIR);
  const tags: string[] = [];
  for (const { node, flags = [], emulator = [] } of targets) {
    const [command, ...prefix] = [...emulator, node];
    const run = spawnSync(command!, [...prefix, ...flags, GENERATOR, dir, out], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", AAT_LOG_LEVEL: "silent" },
    });
    if (run.status !== 0) throw new Error(`code cache generation with ${node} failed:\n${run.stderr}`);
    const { tag } = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { tag: string };
    if (tags.includes(tag))
      throw new Error(`two code caches for ${tag} (${node}): the loader picks one per node major and arch`);
    tags.push(tag);
  }
  const cacheBytes = tags.reduce(
    (sum, tag) =>
      sum +
      readdirSync(join(out, tag)).reduce((inner, file) => inner + statSync(join(out, tag, file)).size, 0),
    0,
  );
  const loaderBytes = Buffer.byteLength(loaderText);
  const asScript = (file: string) => join(dir, scripts.get(file)!.script);
  const packFile = join(dir, PACK);
  const files = [
    { file: result.file, bytes: loaderBytes },
    { file: packFile, bytes: Buffer.byteLength(packText) },
    ...result.files.map(({ file }) => ({ file: asScript(file), bytes: scripts.get(file)!.bytes })),
  ];
  const startFiles = [result.file, packFile];
  const sizeOf = new Map(files.map(({ file, bytes }) => [file, bytes]));
  return {
    ...result,
    files,
    bytes: files.reduce((sum, { bytes }) => sum + bytes, 0),
    startBytes: startFiles.reduce((sum, file) => sum + (sizeOf.get(file) ?? 0), 0),
    startFiles,
    compileCache: { tags, bytes: cacheBytes },
  };
}
