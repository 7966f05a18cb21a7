import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundleHandlers } from "@aat/functions-aws/bundle";

/** The three Lambda handlers the stack deploys, each a folder holding index.mjs (handler index.handler). */
export interface LambdaBundles {
  http: string;
  worker: string;
  schedule: string;
}

/**
 * Builds the real handler bundles (functions/aws, esbuild) into `outDir`, so every synth deploys exactly
 * the code in this checkout. Nothing here is committed (infra-aws/.gitignore).
 */
export async function buildLambdaBundles(outDir: string): Promise<LambdaBundles> {
  const results = await bundleHandlers(outDir);
  const names = new Set(results.map((r) => r.name));
  for (const name of ["http", "worker", "schedule"] as const) {
    if (!names.has(name) || !existsSync(join(outDir, name, "index.mjs"))) {
      throw new Error(
        `functions/aws bundleHandlers wrote no ${name}/index.mjs in ${outDir}; the stack needs the http, worker and schedule handlers`,
      );
    }
  }
  return { http: join(outDir, "http"), worker: join(outDir, "worker"), schedule: join(outDir, "schedule") };
}
