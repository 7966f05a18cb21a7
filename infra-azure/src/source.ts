import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { EXTERNAL } from "@aat/functions-azure/bundle";
import { bundleEntry, type CompileCacheTarget } from "@aat/functions-serverless/bundle";

/**
 * Builds the Function App's package from functions/azure's entry (all three functions: a Function App runs
 * one package, so not functions/azure's one-bundle-per-function build) with the shared esbuild bundler, into
 * `<outDir>/azure`: index.mjs and its chunks, functions/azure's host.json and a package.json whose main is
 * the bundle (the Node worker loads it and the app.http / app.serviceBusQueue / app.timer calls register
 * the functions). Nothing here is committed (infra-azure/.gitignore).
 *
 * What functions/azure's bundle leaves external (`@azure/functions-core`, which the Functions Node worker
 * provides at run time) stays outside here too. `compileCache`: the V8 code cache the package ships
 * (main.ts: on by default, deployCodeCache).
 */
export async function buildAzureSource(outDir: string, compileCache?: CompileCacheTarget[]): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("@aat/functions-azure/entry");
  const result = await bundleEntry("azure", entry, outDir, {
    external: EXTERNAL,
    ...(compileCache ? { compileCache } : {}),
  });
  const dir = dirname(result.file);
  if (!existsSync(join(dir, "index.mjs"))) {
    throw new Error(
      `functions/azure bundle wrote no index.mjs in ${dir}; the Function App needs it as its main module`,
    );
  }
  const hostJson = resolve(dirname(entry), "../host.json");
  if (!existsSync(hostJson))
    throw new Error(`functions/azure has no host.json at ${hostJson}; the Functions host needs it`);
  copyFileSync(hostJson, join(dir, "host.json"));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "aat-azure-functions", private: true, type: "module", main: "index.mjs" }, null, 2)}\n`,
  );
  return dir;
}
