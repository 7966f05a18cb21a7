import { existsSync } from "node:fs";
import { join } from "node:path";
import { type AwsBundleOptions, bundleHandlers } from "@aat/functions-aws/bundle";

type CompileCacheTarget = NonNullable<AwsBundleOptions["compileCache"]>[number];

/** The three Lambda handlers the stack deploys, each a folder holding index.mjs (handler index.handler). */
export interface LambdaBundles {
  http: string;
  worker: string;
  schedule: string;
}

/**
 * The shipped V8 code cache (functions/serverless/src/compile-cache.ts), when the deployer names the node
 * binary of the Lambda runtime's exact version: AAT_CODE_CACHE_NODE (and AAT_CODE_CACHE_V8_FLAGS, the V8
 * flags that runtime starts node with). Without them the bundles are plain ES modules.
 */
export function codeCacheFromEnv(env: NodeJS.ProcessEnv = process.env): CompileCacheTarget[] | undefined {
  const node = env.AAT_CODE_CACHE_NODE?.trim();
  if (!node) {
    if (env.AAT_CODE_CACHE_V8_FLAGS)
      throw new Error(
        "AAT_CODE_CACHE_V8_FLAGS is set without AAT_CODE_CACHE_NODE: name the runtime's node binary too",
      );
    return undefined;
  }
  const flags = (env.AAT_CODE_CACHE_V8_FLAGS ?? "").split(/\s+/).filter(Boolean);
  return [{ node, ...(flags.length > 0 ? { flags } : {}) }];
}

/**
 * Builds the real handler bundles (functions/aws, esbuild) into `outDir`, so every synth deploys exactly
 * the code in this checkout. Nothing here is committed (infra-aws/.gitignore).
 */
export async function buildLambdaBundles(
  outDir: string,
  compileCache: CompileCacheTarget[] | undefined = codeCacheFromEnv(),
): Promise<LambdaBundles> {
  const results = await bundleHandlers(outDir, compileCache ? { compileCache } : {});
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
