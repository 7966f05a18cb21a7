/**
 * `npm run build:functions`: one esbuild bundle per serverless handler of every target (ESM, minified,
 * tree-shaken, code-split, source maps) into functions/<target>/dist/<handler>/. Prints each bundle's
 * size: all files, and what a cold start loads (the entry and its static chunks), raw and gzip.
 * Usage: npm run build:functions [-- aws gcp azure] [-- --compile-cache [--node PATH[,PATH]] [--v8-flags "..."]]
 *
 * `--compile-cache` (opt-in): the bundle's modules become scripts run by index.mjs with a V8 code cache
 * shipped beside them, made by the runtime's exact node binary (`--node`, default the node running this
 * script; >= 20.16 or 22.3) started with the V8 flags the runtime passes (`--v8-flags`, e.g. Lambda's
 * `--expose-gc --max-semi-space-size=… --max-old-space-size=…`); where the version, arch or flags differ
 * the scripts compile as usual (functions/serverless/src/compile-cache.ts, docs/benchmarks.md).
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { gzipSync } from "node:zlib";
import { DIST as AWS_DIST, bundleHandlers as bundleAws } from "@aat/functions-aws/bundle";
import { DIST as AZURE_DIST, bundleHandlers as bundleAzure } from "@aat/functions-azure/bundle";
import { bundleHandlers as bundleGcp, DIST as GCP_DIST } from "@aat/functions-gcp/bundle";
import type { BundleResult, CompileCacheTarget } from "@aat/functions-serverless/bundle";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  args.splice(at, 2);
  return value;
};
const nodes = option("--node");
const v8Flags = option("--v8-flags");
const withCache = args.includes("--compile-cache");
if (withCache) args.splice(args.indexOf("--compile-cache"), 1);
if (!withCache && (nodes || v8Flags)) throw new Error("--node and --v8-flags go with --compile-cache");
const compileCache: CompileCacheTarget[] | undefined = withCache
  ? (nodes ?? process.execPath).split(",").map((node) => ({
      node,
      ...(v8Flags ? { flags: v8Flags.split(/\s+/).filter(Boolean) } : {}),
    }))
  : undefined;
const options = compileCache ? { compileCache } : {};

const TARGETS: Record<string, () => Promise<BundleResult[]>> = {
  aws: () => bundleAws(AWS_DIST, options),
  gcp: () => bundleGcp(GCP_DIST, options),
  azure: () => bundleAzure(AZURE_DIST, options),
};

const wanted = args;
const unknown = wanted.filter((name) => !(name in TARGETS));
if (unknown.length > 0) {
  console.error(
    `unknown target(s): ${unknown.join(", ")}; expected some of ${Object.keys(TARGETS).join(", ")}`,
  );
  process.exit(2);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const gzip = (files: string[]) => files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);

for (const target of wanted.length > 0 ? wanted : Object.keys(TARGETS)) {
  for (const result of await TARGETS[target]!()) {
    const all = result.files.map(({ file }) => file);
    console.log(
      `${target}/${result.name}: ${relative(process.cwd(), result.file)} — ${all.length} files ${kib(result.bytes)} (gzip ${kib(gzip(all))}); loaded at start ${kib(result.startBytes)} (gzip ${kib(gzip(result.startFiles))})${result.compileCache ? `; compile cache ${kib(result.compileCache.bytes)} for ${result.compileCache.tags.join(", ")}` : ""}`,
    );
  }
}
