/**
 * Opt-in build output (`npm run build:functions -- --compile-cache`): a V8 code cache of every module of a
 * handler bundle, generated at build time by the exact node binary (and V8 flags) the function will run
 * under, shipped beside the bundle, and used through Node's own module compile cache
 * (`module.enableCompileCache`, Node >= 22.1). A cold start then deserializes each module's compiled code
 * instead of parsing and compiling it (docs/benchmarks.md, cold start; docs/decisions.md).
 *
 * Why not just set NODE_COMPILE_CACHE: Node 22 keys a cache entry by a crc32 of the module's absolute
 * file URL and puts the entries in a folder named after the node version, the arch, V8's
 * cachedDataVersionTag (which hashes the V8 flags) and the uid (src/compile_cache.cc); Node 22 has no
 * portable (relative-path) mode. A cache made at build time would miss at another path (Lambda's
 * /var/task) or uid, and the deployed folder is read-only. So the bundle ships the entries by file name
 * (`compile-cache/<version>-<arch>-<v8 tag>/<key>`, keyed for the folder the bundle will be deployed
 * to, `deployDir`, e.g. Lambda's /var/task; default where it was built; plus manifest.json), and the
 * bundle's index.mjs becomes a small loader that, before importing the real entry (main.mjs):
 * 1. returns at once where there is nothing to use: Node without enableCompileCache (20), Node's own
 *    cache configured or disabled (NODE_COMPILE_CACHE, NODE_DISABLE_COMPILE_CACHE), or no shipped cache
 *    whose tag is this process's (another version, arch or V8 flags);
 * 2. otherwise makes `<tmpdir>/aat-compile-cache/<crc of its location>/` and in it `<tag>-<uid>`, the
 *    folder Node reads: at the expected location one symlink to the shipped folder; anywhere else a
 *    folder of symlinks, one per file loaded at start, named by the key for the file's actual URL (a
 *    symlink costs ~0.2 ms on this machine's overlay /tmp, so not one per chunk); then enableCompileCache.
 * Node checks each entry (its magic, the source's size and crc32, the data's crc32) and V8 checks the data
 * (version, flags, source); a mismatch is a miss: the module is compiled as usual and Node writes a fresh
 * entry to the temporary folder (by rename, so a symlink is replaced, never written through).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BundleResult } from "./bundle.js";

export interface CompileCacheTarget {
  /** The node binary the function runs under (its exact version: the cache is used by that one only). */
  node: string;
  /**
   * The V8 flags the runtime starts node with (they enter V8's cache tag): e.g. Lambda's Node runtime
   * starts node with `--expose-gc --max-semi-space-size=… --max-old-space-size=…` (sizes from the
   * function's memory). Default none.
   */
  flags?: string[];
}

export interface CompileCacheInfo {
  /** One per target: `<version>-<arch>-<V8 cachedDataVersionTag>`. */
  tags: string[];
  /** Bytes of the cache files. */
  bytes: number;
}

/** The bundle's real entry once index.mjs is the loader. */
export const MAIN = "main.mjs";
export const CACHE_DIR = "compile-cache";
const GENERATOR = fileURLToPath(new URL("./compile-cache-generate.mjs", import.meta.url));

/**
 * Whether a node binary can generate and use a shipped cache: it has `module.enableCompileCache` and
 * `process.getBuiltinModule`, which the loader needs (Node >= 22.3).
 */
export function supportsCompileCache(node: string): boolean {
  const run = spawnSync(
    node,
    ["-p", "typeof require('node:module').enableCompileCache + typeof process.getBuiltinModule"],
    { encoding: "utf8" },
  );
  return run.status === 0 && run.stdout.trim() === "functionfunction";
}

/**
 * The loader written as index.mjs. Self-contained (node built-ins the bundle's banner loads anyway, a
 * table crc32 rather than node:zlib); `exports` are the real entry's export names, re-exported after the
 * import (top-level await: Lambda, the Functions Framework and Azure Functions all load ESM with import()).
 */
function loader(exports: string[]): string {
  const reexports = exports.map((name) =>
    name === "default" ? "export default main.default;" : `export const ${name} = main.${name};`,
  );
  return `// The compile cache loader (functions/serverless/src/compile-cache.ts): points Node's module compile
// cache at the V8 code cache shipped in ${CACHE_DIR}/, then imports the bundle's entry (${MAIN}).
// Without a cache for this node (version, arch, V8 flags) it only imports the entry.
import * as nodeModule from "node:module";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

function crc32(text) {
  const table = (crc32.table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  }));
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

/** A symlink at \`path\` to \`target\`, replacing whatever is there unless it is that link already. */
function link(target, path) {
  try {
    symlinkSync(target, path);
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
    if (lstatSync(path).isSymbolicLink() && readlinkSync(path) === target) return;
    rmSync(path, { recursive: true, force: true });
    symlinkSync(target, path);
  }
}

function useCompileCache() {
  if (typeof nodeModule.enableCompileCache !== "function") return;
  if (process.env.NODE_COMPILE_CACHE || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  const here = new URL("./", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("${CACHE_DIR}/manifest.json", here), "utf8"));
  if (!manifest.tags.some((tag) => tag.startsWith(\`\${process.version}-\${process.arch}-\`))) return;
  const v8tag = process.getBuiltinModule("node:v8").cachedDataVersionTag().toString(16).padStart(8, "0");
  const tag = \`\${process.version}-\${process.arch}-\${v8tag}\`;
  if (!manifest.tags.includes(tag)) return;
  // One folder per bundle location; in it, the folder Node reads: \`<tag>-<uid>\`.
  const root = \`\${process.env.TMPDIR || "/tmp"}/aat-compile-cache/\${crc32(here.href)}\`;
  const dir = \`\${root}/\${tag}\${typeof process.getuid === "function" ? \`-\${process.getuid()}\` : ""}\`;
  const shipped = fileURLToPath(new URL(\`${CACHE_DIR}/\${tag}\`, here));
  mkdirSync(root, { recursive: true });
  if (here.href === manifest.base) {
    // Where the build expected the bundle (the keys are this location's): one link to the shipped folder.
    link(shipped, dir);
  } else {
    // Elsewhere: a folder of links named by this location's keys, for the files loaded at start.
    if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(dir);
    mkdirSync(dir, { recursive: true });
    const keys = new Map(manifest.files);
    for (const file of manifest.start)
      link(\`\${shipped}/\${keys.get(file)}\`, \`\${dir}/\${crc32(\`\\x01\${new URL(file, here).href}\`)}\`);
  }
  nodeModule.enableCompileCache(root);
}

try {
  useCompileCache();
} catch {
  // No usable cache (e.g. no writable temporary folder): the modules compile as they would without one.
}
const main = await import("./${MAIN}");
${reexports.join("\n")}
`;
}

/**
 * Turns a bundle written by bundleEntry into one with a shipped compile cache: index.mjs → main.mjs (and
 * its source map), the loader as index.mjs, `compile-cache/` with one entry set per target. Returns the
 * result with the loader and main.mjs among the files and the start files.
 */
export function addCompileCache(
  result: BundleResult,
  targets: CompileCacheTarget[],
  deployDir?: string,
): BundleResult {
  if (targets.length === 0) throw new Error("addCompileCache: no target node binary");
  const dir = dirname(result.file);
  const entryPath = Object.keys(result.metafile.outputs).find((path) => resolve(path) === result.file);
  if (!entryPath) throw new Error(`addCompileCache: ${result.file} is not in the bundle's metafile`);
  const exports = result.metafile.outputs[entryPath]!.exports;
  const main = join(dir, MAIN);
  const source = readFileSync(result.file, "utf8");
  const mapComment = `//# sourceMappingURL=${basename(result.file)}.map`;
  writeFileSync(main, source.replace(mapComment, `//# sourceMappingURL=${MAIN}.map`));
  renameSync(`${result.file}.map`, `${main}.map`);
  const loaderText = loader(exports);
  writeFileSync(result.file, loaderText);
  const out = join(dir, CACHE_DIR);
  const base = pathToFileURL(join(resolve(deployDir ?? dir), "/")).href;
  const tags: string[] = [];
  let files: Array<[string, string]> = [];
  for (const { node, flags = [] } of targets) {
    const run = spawnSync(
      node,
      [...flags, "--experimental-vm-modules", "--no-warnings", GENERATOR, dir, out, base],
      { encoding: "utf8" },
    );
    if (run.status !== 0) throw new Error(`compile cache generation with ${node} failed:\n${run.stderr}`);
    const generated = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      tag: string;
      files: Array<[string, string]>;
    };
    tags.push(generated.tag);
    files = generated.files;
  }
  const start = [
    MAIN,
    ...result.startFiles.filter((file) => file !== result.file).map((file) => basename(file)),
  ];
  writeFileSync(join(out, "manifest.json"), `${JSON.stringify({ base, tags, files, start })}\n`);
  const loaderBytes = Buffer.byteLength(loaderText);
  const mainBytes = Buffer.byteLength(source);
  const cacheBytes = tags.reduce(
    (sum, tag) => sum + files.reduce((inner, [, key]) => inner + readFileSync(join(out, tag, key)).length, 0),
    0,
  );
  const rest = result.files.filter(({ file }) => file !== result.file);
  return {
    ...result,
    files: [{ file: result.file, bytes: loaderBytes }, { file: main, bytes: mainBytes }, ...rest],
    bytes: result.bytes + loaderBytes,
    startBytes: result.startBytes + loaderBytes,
    startFiles: [result.file, main, ...result.startFiles.filter((file) => file !== result.file)],
    compileCache: { tags, bytes: cacheBytes },
  };
}
