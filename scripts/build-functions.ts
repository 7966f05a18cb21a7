/**
 * `npm run build:functions`: one esbuild bundle per serverless handler of every target (ESM, minified,
 * tree-shaken, code-split, source maps) into functions/<target>/dist/<handler>/. Prints each bundle's
 * size: all files, and what a cold start loads (the entry and its static chunks), raw and gzip.
 * Usage: npm run build:functions [-- aws gcp azure]
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { gzipSync } from "node:zlib";
import { DIST as AWS_DIST, bundleHandlers as bundleAws } from "@aat/functions-aws/bundle";
import { DIST as AZURE_DIST, bundleHandlers as bundleAzure } from "@aat/functions-azure/bundle";
import { bundleHandlers as bundleGcp, DIST as GCP_DIST } from "@aat/functions-gcp/bundle";
import type { BundleResult } from "@aat/functions-serverless/bundle";

const TARGETS: Record<string, () => Promise<BundleResult[]>> = {
  aws: () => bundleAws(AWS_DIST),
  gcp: () => bundleGcp(GCP_DIST),
  azure: () => bundleAzure(AZURE_DIST),
};

const wanted = process.argv.slice(2);
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
      `${target}/${result.name}: ${relative(process.cwd(), result.file)} — ${all.length} files ${kib(result.bytes)} (gzip ${kib(gzip(all))}); loaded at start ${kib(result.startBytes)} (gzip ${kib(gzip(result.startFiles))})`,
    );
  }
}
