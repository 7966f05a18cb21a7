import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { bundleEntry } from "@aat/functions-serverless/bundle";

const FRAMEWORK = "@google-cloud/functions-framework";

/**
 * Builds the source of the three Cloud Run functions (api, steps, schedules: one source, three
 * `--target`s) from functions/gcp's entry with the shared esbuild bundler, into `<outDir>/gcp`: index.mjs,
 * its chunks and a package.json. Nothing here is committed (infra-gcp/.gitignore).
 *
 * The Functions Framework stays outside the bundle and is listed in package.json: Cloud Run functions'
 * buildpack installs it and starts `functions-framework --target=<name>`, which loads index.mjs; the
 * functions must register with that same copy of the framework, not a bundled second one.
 */
export async function buildGcpSource(outDir: string): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("@aat/functions-gcp/entry");
  const result = await bundleEntry("gcp", entry, outDir, { external: [FRAMEWORK] });
  const dir = dirname(result.file);
  if (!existsSync(join(dir, "index.mjs"))) {
    throw new Error(
      `functions/gcp bundle wrote no index.mjs in ${dir}; the functions need it as their main module`,
    );
  }
  const manifest = JSON.parse(readFileSync(resolve(dirname(entry), "../package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const framework = manifest.dependencies?.[FRAMEWORK];
  if (!framework)
    throw new Error(
      `functions/gcp/package.json lists no ${FRAMEWORK}; the functions cannot start without it`,
    );
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "aat-gcp-functions",
        private: true,
        type: "module",
        main: "index.mjs",
        engines: { node: "22" },
        dependencies: { [FRAMEWORK]: framework },
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}
