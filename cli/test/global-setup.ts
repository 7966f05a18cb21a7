import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `aat` CLI bundled once for this test run (see cli/test/support.ts). */
    aatCliBundle: string;
  }
}

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/**
 * The source of the bundle keeps its own address: code that finds files next to itself
 * (`new URL("../../examples", import.meta.url)`, `createRequire(import.meta.url)`) still finds
 * them when it runs from the bundle in a temp directory.
 */
const ownImportMetaUrl: Plugin = {
  name: "own-import-meta-url",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.(?:[cm]?ts|[cm]?js)$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const loader = /\.[cm]?ts$/.test(args.path) ? "ts" : "js";
      return {
        contents: source.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
        loader,
      };
    });
  },
};

/**
 * Bundles cli/src/main.ts once per test run into a temp .mjs that plain `node` starts in a fraction
 * of the time tsx needs to load the TypeScript sources; every CLI test spawns it as a child process.
 * The same sources, the same dependencies: only the loading differs (tests of `cli/bin/aat.js`
 * itself, through `npm exec aat` and `npm run aat`, check the shipped entry point).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), "aat-cli-bundle-"));
  const bundle = () =>
    build({
      entryPoints: { aat: MAIN },
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      // The dynamic imports of @aat/core become chunks of their own, loaded only by the commands that
      // need them, as when tsx runs the sources.
      splitting: true,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // CommonJS dependencies inside an ES module bundle call require(); give them Node's.
      banner: {
        js: 'import { createRequire as __aatRequire } from "node:module";\nconst require = __aatRequire(import.meta.url);',
      },
      plugins: [ownImportMetaUrl],
      logLevel: "warning",
    });
  await bundle();
  // Watch mode: a rerun tests the CLI as it is now, not as it was when the run started.
  project.onTestsRerun(async () => {
    await bundle();
  });
  project.provide("aatCliBundle", join(dir, "aat.mjs"));
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
