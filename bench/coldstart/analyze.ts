/**
 * What a handler's cold start loads, by package (from esbuild's metafile): the entry and the chunks it
 * imports statically, grouped by npm package or project folder, largest first. The tool used to find
 * what to cut (docs/benchmarks.md, cold start). Usage:
 *   npm run coldstart:analyze -w @aat/bench -- aws worker [--all] [--top 30]
 * --all counts every file of the bundle instead (what is deployed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { HANDLERS as AWS } from "@aat/functions-aws/bundle";
import { HANDLERS as AZURE, EXTERNAL as AZURE_EXTERNAL } from "@aat/functions-azure/bundle";
import { HANDLERS as GCP, EXTERNAL as GCP_EXTERNAL } from "@aat/functions-gcp/bundle";
import { bundleEntry, type HandlerSpec } from "@aat/functions-serverless/bundle";

const TARGETS: Record<string, { handlers: Record<string, HandlerSpec>; external: string[] }> = {
  aws: { handlers: AWS, external: [] },
  gcp: { handlers: GCP, external: GCP_EXTERNAL },
  azure: { handlers: AZURE, external: AZURE_EXTERNAL },
};

const [targetName = "aws", handlerName = "worker"] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const all = process.argv.includes("--all");
const topAt = process.argv.indexOf("--top");
const top = topAt >= 0 ? Number(process.argv[topAt + 1]) : 30;
const target = TARGETS[targetName];
const spec = target?.handlers[handlerName];
if (!target || !spec) {
  console.error(
    `no handler ${targetName}/${handlerName}; targets and handlers: ${Object.entries(TARGETS)
      .map(([name, t]) => `${name}: ${Object.keys(t.handlers).join(", ")}`)
      .join("; ")}`,
  );
  process.exit(2);
}

const out = mkdtempSync(join(process.cwd(), ".coldstart-analyze-"));
try {
  const result = await bundleEntry(handlerName, spec.entry, out, {
    external: target.external,
    httpApi: spec.httpApi,
    ...(spec.mainFields ? { mainFields: spec.mainFields } : {}),
  });
  const counted = new Set(all ? result.files.map(({ file }) => file) : result.startFiles);
  const byPackage = new Map<string, number>();
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!counted.has(resolve(path))) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inPackage = input.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
      const key = inPackage
        ? inPackage[1]!
        : input
            .replace(/^(\.\.\/)+/, "")
            .split("/")
            .slice(0, 3)
            .join("/");
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  }
  const total = [...byPackage.values()].reduce((sum, bytes) => sum + bytes, 0);
  console.log(
    `${targetName}/${handlerName}: ${all ? "every file" : "loaded at start"}, ${(total / 1024).toFixed(1)} KiB minified`,
  );
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${name}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
