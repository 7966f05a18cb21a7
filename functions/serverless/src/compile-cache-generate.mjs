// Writes the V8 code cache of one scripted handler bundle (functions/serverless/src/compile-cache.ts) for
// the node binary and V8 flags this script runs under. Run by compile-cache.ts with the target runtime's
// node:  node [the runtime's V8 flags] compile-cache-generate.mjs <bundle dir> <out dir>
// It imports the bundle (its index.mjs loader runs start.js, the start's scripts in one, as a cold start
// does), then caches start.js with the functions that ran (what a cold start compiles lazily) and the
// other scripts (chunks loaded on first use) compiled without running. Files: <out dir>/<tag>/<script>,
// where tag is `v<major>-<arch>` (the loader's choice; V8 itself checks its version and flags), and
// <out dir>/<tag>/made-by.json: this node's version, arch, V8 version and flags. Prints {"tag"} as JSON.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";

const [bundleDir, outDir] = process.argv.slice(2);
if (!bundleDir || !outDir) throw new Error("usage: compile-cache-generate.mjs <bundle dir> <out dir>");
if (typeof process.getBuiltinModule !== "function" || !vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER)
  throw new Error(
    `node ${process.version} (${process.execPath}) cannot run the code cache loader: generate the cache with the runtime's node (>= 20.16 or 22.3)`,
  );
const tag = `v${process.versions.node.split(".")[0]}-${process.arch}`;
await import(pathToFileURL(join(bundleDir, "index.mjs")).href);
const registry = globalThis[Symbol.for("aat.bundleScripts")];
if (!(registry?.scripts instanceof Map))
  throw new Error(`${bundleDir}/index.mjs is not the code cache loader`);
const dir = join(outDir, tag);
mkdirSync(dir, { recursive: true });
// The start's scripts run from start.js (registry.packed): their own files are read only in
// source-mapped runs, which use no cache.
const packed = new Set(Object.keys(registry.packed ?? {}));
for (const name of readdirSync(bundleDir).filter((file) => file.endsWith(".js") && !packed.has(file))) {
  const script = registry.scripts.get(name)?.script ?? registry.compile(name);
  writeFileSync(join(dir, name), script.createCachedData());
}
const madeBy = {
  node: process.version,
  arch: process.arch,
  v8: process.versions.v8,
  flags: process.execArgv,
};
writeFileSync(join(dir, "made-by.json"), `${JSON.stringify(madeBy)}\n`);
process.stdout.write(`${JSON.stringify({ tag })}\n`);
// The bundle's import may leave timers or sockets open; the cache is written.
process.exit(0);
