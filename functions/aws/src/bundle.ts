/**
 * The Lambda handlers and their bundles (the bundler is shared: functions/serverless/src/bundle.ts):
 * `npm run build:functions` writes them to functions/aws/dist/<name>/ (index.mjs and its chunks; zip each
 * folder and upload it with handler "index.handler").
 *
 * The AWS SDK is bundled, not left to the one in Lambda's runtime: the bundle then carries the exact SDK
 * version the tests ran against, and esbuild keeps only the clients and commands used (see
 * docs/benchmarks.md for the sizes and cold-start times, and the `sdkExternal` variant for comparison).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BundleResult,
  bundleHandlers as bundleAllWith,
  bundleEntry as bundleWith,
  type CompileCacheOptions,
  type HandlerSpec,
} from "@aat/functions-serverless/bundle";

const here = dirname(fileURLToPath(import.meta.url));

/** For infra-aws: what a synth ships as code cache (functions/serverless/src/runtime-node.ts). */
export { deployCodeCache } from "@aat/functions-serverless/bundle";
export type { BundleResult };

/**
 * The AWS SDK's packages have no `exports` map; esbuild's default for node reads their `main` (dist-cjs:
 * one CommonJS file per package, kept whole, every credential provider required up front). Reading
 * `module` first takes their ES builds (dist-es), which tree-shake to the commands used and load the
 * credential providers other than the one in use with `await import()`: the SDK code a first invocation
 * parses drops from about 530 to 300 KiB (docs/benchmarks.md, cold start). This is the bundling AWS
 * documents for ESM Lambda functions. Only packages without an `exports` map are affected; in these
 * bundles that is the AWS SDK and Smithy alone (checked with the bundles' metafiles).
 */
export const AWS_MAIN_FIELDS = ["module", "main"];

/** The Lambda handlers; only `http` serves the HTTP API (the others' bundles leave it out). */
export const HANDLERS: Record<"http" | "worker" | "schedule", HandlerSpec> = {
  http: { entry: join(here, "entries/http.ts"), httpApi: true, mainFields: AWS_MAIN_FIELDS },
  worker: { entry: join(here, "entries/worker.ts"), httpApi: false, mainFields: AWS_MAIN_FIELDS },
  schedule: { entry: join(here, "entries/schedule.ts"), httpApi: false, mainFields: AWS_MAIN_FIELDS },
};

/**
 * The V8 flags Lambda's Node runtime starts node with in a function of `memoryMb` (its bootstrap script:
 * `--expose-gc`, a tenth of the memory as new space split into two semi-spaces, the rest as old space; its
 * `--max-http-header-size` is Node's, not V8's). A shipped code cache must be made with exactly these:
 * V8 refuses a cache made under other flags (checked: one flag's difference is enough).
 */
export function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    "--expose-gc",
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

export interface AwsBundleOptions extends CompileCacheOptions {
  /** Leave the AWS SDK to the copy in Lambda's Node runtime (@aws-sdk/*, @smithy/*). */
  sdkExternal?: boolean;
}

const cacheOptions = (options: AwsBundleOptions) =>
  options.compileCache ? { compileCache: options.compileCache } : {};

const external = (options: AwsBundleOptions) => (options.sdkExternal ? ["@aws-sdk/*", "@smithy/*"] : []);

export function bundleEntry(
  name: string,
  spec: HandlerSpec,
  outDir: string,
  options: AwsBundleOptions = {},
): Promise<BundleResult> {
  return bundleWith(name, spec.entry, outDir, {
    external: external(options),
    httpApi: spec.httpApi,
    ...(spec.mainFields ? { mainFields: spec.mainFields } : {}),
    ...cacheOptions(options),
  });
}

/** Bundles every Lambda handler into `outDir`. */
export function bundleHandlers(outDir: string, options: AwsBundleOptions = {}): Promise<BundleResult[]> {
  return bundleAllWith(HANDLERS, outDir, { external: external(options), ...cacheOptions(options) });
}

export const DIST = resolve(here, "../dist");

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const result of await bundleHandlers(DIST)) {
    console.log(`${result.name}: ${result.file} (${(result.bytes / 1024).toFixed(1)} KiB)`);
  }
}
