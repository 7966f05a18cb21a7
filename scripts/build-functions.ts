/**
 * `npm run build:functions`: one esbuild bundle per serverless handler of every target (ESM, minified,
 * tree-shaken, code-split, source maps) into functions/<target>/dist/<handler>/. Prints each bundle's
 * size: all files, and what a cold start loads (the entry and its static chunks), raw and gzip.
 * Usage: npm run build:functions [-- aws gcp azure] [-- --arch x64|arm64] [--node-version 22.x.y]
 *          [--v8-flags "..."] [--node PATH[,PATH]] [--no-compile-cache]
 *
 * By default each bundle ships a V8 code cache (functions/serverless/src/compile-cache.ts): its modules
 * become scripts run by index.mjs with a cache made by a node of the clouds' runtime major (the version
 * pinned in functions/serverless/runtime-node.json, or `--node-version`) for `--arch` (default this
 * machine's; another arch runs under qemu user mode), started with the V8 flags the runtime passes
 * (`--v8-flags`, e.g. Lambda's `--expose-gc --max-semi-space-size=… --max-old-space-size=…`; infra-aws
 * computes them per function). `--node` names the binaries instead. Where the runtime's node refuses the
 * cache the scripts compile as usual and the handler says so in its log once. When no such node can be
 * had (offline, no qemu for another arch), the build says why and ships plain ES modules;
 * `--no-compile-cache` asks for those.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { gzipSync } from "node:zlib";
import { DIST as AWS_DIST, bundleHandlers as bundleAws } from "@aat/functions-aws/bundle";
import { DIST as AZURE_DIST, bundleHandlers as bundleAzure } from "@aat/functions-azure/bundle";
import { bundleHandlers as bundleGcp, DIST as GCP_DIST } from "@aat/functions-gcp/bundle";
import { type BundleResult, type CompileCacheTarget, runtimeNode } from "@aat/functions-serverless/bundle";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  args.splice(at, 2);
  return value;
};
const flag = (name: string) => {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
};
const nodes = option("--node");
const version = option("--node-version");
const arch = option("--arch");
const v8Flags = option("--v8-flags")?.split(/\s+/).filter(Boolean);
flag("--compile-cache"); // the default now; still accepted
const withoutCache = flag("--no-compile-cache");
if (withoutCache && (nodes || version || arch || v8Flags))
  throw new Error("--no-compile-cache goes without --node, --node-version, --arch and --v8-flags");
if (nodes && (version || arch))
  throw new Error("--node names the binaries: no --node-version or --arch with it");

function cacheTargets(): CompileCacheTarget[] | undefined {
  if (withoutCache) return undefined;
  const flags = v8Flags && v8Flags.length > 0 ? { flags: v8Flags } : {};
  if (nodes) return nodes.split(",").map((node) => ({ node, ...flags }));
  const found = runtimeNode({ ...(version ? { version } : {}), ...(arch ? { arch } : {}) });
  if ("unavailable" in found) {
    console.warn(`build:functions: no code cache (cold starts compile from source): ${found.unavailable}`);
    return undefined;
  }
  return [{ ...found.target, ...flags }];
}
const compileCache = cacheTargets();
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
