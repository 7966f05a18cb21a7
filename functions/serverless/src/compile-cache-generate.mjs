// Writes V8 code caches for the modules of one handler bundle, in the format of Node's module compile
// cache (module.enableCompileCache, Node >= 22.1), for the node binary and V8 flags this script runs
// under. Run by functions/serverless/src/compile-cache.ts with the target runtime's node:
//   node [the runtime's V8 flags] --experimental-vm-modules compile-cache-generate.mjs <bundle dir> <out dir> <base URL>
// Nothing of the bundle is evaluated: each .mjs file is compiled as a module (vm.SourceTextModule, the
// same compile Node's ESM loader makes) and its code cache taken, which is what Node itself stores on a
// module's first load. Files: <out dir>/<tag>/<key>, where tag is Node's own cache tag without the uid
// (version, arch, V8's cachedDataVersionTag, which hashes the V8 flags) and key Node's own key for the
// file at <base URL> (crc32 of the module type, 1 for ESM, and the file URL); each file carries Node's
// header (magic, source size, cache size, source crc32, cache crc32) before V8's data. Prints
// {"tag","files":[[file name, key]]} as JSON.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { crc32 } from "node:zlib";

/** Node 22's compile cache file magic (src/compile_cache.cc, kCacheMagicNumber). */
const MAGIC = 0x8adfdbb2;
const [bundleDir, outDir, base] = process.argv.slice(2);
if (!bundleDir || !outDir || !base?.endsWith("/"))
  throw new Error("usage: compile-cache-generate.mjs <bundle dir> <out dir> <base URL ending in />");
if (!vm.SourceTextModule) throw new Error("run with --experimental-vm-modules");
const nodeModule = await import("node:module");
if (typeof nodeModule.enableCompileCache !== "function" || typeof process.getBuiltinModule !== "function")
  throw new Error(
    `node ${process.version} (${process.execPath}) has no module compile cache to use this cache with: generate it with the runtime's node (>= 22.3)`,
  );
const tag = `${process.version}-${process.arch}-${v8.cachedDataVersionTag().toString(16).padStart(8, "0")}`;
const dir = join(outDir, tag);
mkdirSync(dir, { recursive: true });
const files = [];
for (const name of readdirSync(bundleDir).filter((file) => file.endsWith(".mjs"))) {
  const path = join(bundleDir, name);
  const source = readFileSync(path, "utf8");
  const module = new vm.SourceTextModule(source, { identifier: pathToFileURL(path).href });
  const data = module.createCachedData();
  const code = Buffer.from(source, "utf8");
  const header = Buffer.alloc(20);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(code.length, 4);
  header.writeUInt32LE(data.length, 8);
  header.writeUInt32LE(crc32(code), 12);
  header.writeUInt32LE(crc32(data), 16);
  const key = crc32(Buffer.from(`\x01${new URL(name, base).href}`))
    .toString(16)
    .padStart(8, "0");
  writeFileSync(join(dir, key), Buffer.concat([header, data]));
  files.push([name, key]);
}
process.stdout.write(`${JSON.stringify({ tag, files })}\n`);
