import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { bundleHandlers, EXTERNAL, HANDLERS } from "@aat/functions-gcp/bundle";
import type { CompileCacheTarget } from "@aat/functions-serverless/bundle";

export type GcpFunctionName = keyof typeof HANDLERS;
/** Folder of each function's source: index.mjs, its chunks and package.json. */
export type GcpFunctionSources = Record<GcpFunctionName, string>;

/**
 * Builds the source of each Cloud Run function (`api`, `steps`, `schedules`: one bundle per function, as
 * functions/gcp's bundleHandlers makes them) into `<outDir>/<name>`, each with a package.json naming the
 * packages functions/gcp leaves outside the bundle. Nothing here is committed (infra-gcp/.gitignore).
 *
 * The Functions Framework is one of those: Cloud Run functions' buildpack installs it and starts
 * `functions-framework --target=<name>`, which loads index.mjs; the function must register with that same
 * copy of the framework, not a bundled second one.
 * `compileCache`: the V8 code cache each function ships (main.ts: on by default, deployCodeCache).
 */
export async function buildGcpSources(
  outDir: string,
  compileCache?: CompileCacheTarget[],
): Promise<GcpFunctionSources> {
  const bundleModule = createRequire(import.meta.url).resolve("@aat/functions-gcp/bundle");
  const manifest = JSON.parse(readFileSync(resolve(dirname(bundleModule), "../package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of EXTERNAL) {
    const version = manifest.dependencies?.[name];
    if (!version)
      throw new Error(`functions/gcp/package.json lists no ${name}; the functions cannot start without it`);
    dependencies[name] = version;
  }
  const results = await bundleHandlers(outDir, compileCache ? { compileCache } : {});
  const sources = {} as GcpFunctionSources;
  for (const name of Object.keys(HANDLERS) as GcpFunctionName[]) {
    const result = results.find((r) => r.name === name);
    const dir = result ? dirname(result.file) : join(outDir, name);
    if (!result || !existsSync(join(dir, "index.mjs"))) {
      throw new Error(
        `functions/gcp bundleHandlers wrote no ${name}/index.mjs in ${outDir}; the stack deploys it`,
      );
    }
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify(
        {
          name: `aat-gcp-${name}`,
          private: true,
          type: "module",
          main: "index.mjs",
          engines: { node: "22" },
          dependencies,
        },
        null,
        2,
      )}\n`,
    );
    sources[name] = dir;
  }
  return sources;
}
