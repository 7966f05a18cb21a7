import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type AwsBundleOptions,
  bundleEntry,
  deployCodeCache,
  HANDLERS,
  lambdaNodeFlags,
} from "@aat/functions-aws/bundle";
import type { AwsDeployConfig } from "./config.js";

type CompileCacheTarget = NonNullable<AwsBundleOptions["compileCache"]>[number];

/** The three Lambda handlers the stack deploys, each a folder holding index.mjs (handler index.handler). */
export interface LambdaBundles {
  http: string;
  worker: string;
  schedule: string;
}
export type FunctionRole = keyof LambdaBundles;

/** The arch of the stack's functions (Graviton): the code cache is made by a node of this arch. */
export const LAMBDA_ARCH = "arm64";

/** Which `sizes` entry of the deploy configuration each function takes (a schedule tick runs no steps). */
export const SIZE_OF: Record<FunctionRole, "api" | "worker"> = {
  http: "api",
  worker: "worker",
  schedule: "api",
};

export type LambdaCodeCaches = Record<FunctionRole, CompileCacheTarget[]>;

/**
 * The V8 code cache each bundle ships (functions/serverless/src/compile-cache.ts), on by default: made by
 * the Node 22 the build pins (runtime-node.json; AAT_NODE22_VERSION another) for Lambda's arch, started
 * with the V8 flags Lambda starts that function's node with (they depend on its memory size; V8 refuses a
 * cache made with other flags). `AAT_CODE_CACHE=off` ships plain ES modules; `AAT_CODE_CACHE_NODE` names
 * the binary (of Lambda's arch) and `AAT_CODE_CACHE_V8_FLAGS` the flags instead (deployCodeCache). When
 * no such node can be had here, a warning says why and the bundles ship without a cache.
 */
export function lambdaCodeCaches(
  config: Pick<AwsDeployConfig, "sizes">,
  env: NodeJS.ProcessEnv = process.env,
): { caches?: LambdaCodeCaches; warning?: string } {
  const { target, flags, warning } = deployCodeCache("infra-aws", LAMBDA_ARCH, env);
  if (!target) return warning ? { warning } : {};
  const cacheFor = (role: FunctionRole) => [
    { ...target, flags: flags ?? lambdaNodeFlags(config.sizes[SIZE_OF[role]].memoryMb) },
  ];
  return { caches: { http: cacheFor("http"), worker: cacheFor("worker"), schedule: cacheFor("schedule") } };
}

/**
 * Builds the real handler bundles (functions/aws, esbuild) into `outDir`, so every synth deploys exactly
 * the code in this checkout, each with its code cache when given. Nothing here is committed
 * (infra-aws/.gitignore).
 */
export async function buildLambdaBundles(outDir: string, caches?: LambdaCodeCaches): Promise<LambdaBundles> {
  const bundles = {} as LambdaBundles;
  for (const role of ["http", "worker", "schedule"] as const) {
    const result = await bundleEntry(
      role,
      HANDLERS[role],
      outDir,
      caches ? { compileCache: caches[role] } : {},
    );
    if (!existsSync(join(outDir, role, "index.mjs")))
      throw new Error(
        `functions/aws bundleEntry wrote no ${role}/index.mjs in ${outDir} (${result.file}); the stack needs the http, worker and schedule handlers`,
      );
    bundles[role] = join(outDir, role);
  }
  return bundles;
}
