/**
 * The azure handlers and their bundles (the bundler is shared: functions/serverless/src/bundle.ts):
 * `npm run build:functions` writes them to functions/azure/dist/<name>/ (index.mjs and its chunks), one
 * function per bundle. @azure/functions is bundled (so is the Service Bus SDK, loaded when the queue
 * connects); @azure/functions-core, the module the Functions host's Node worker provides, stays external.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BundleResult,
  bundleHandlers as bundleAllWith,
  type CompileCacheOptions,
  type HandlerSpec,
} from "@aat/functions-serverless/bundle";

const here = dirname(fileURLToPath(import.meta.url));

/** Packages the host provides at run time. */
export const EXTERNAL = ["@azure/functions-core"];

/** The functions; only `api` serves the HTTP API (the others' bundles leave it out). */
export const HANDLERS: Record<"api" | "steps" | "schedules", HandlerSpec> = {
  api: { entry: join(here, "entries/api.ts"), httpApi: true },
  steps: { entry: join(here, "entries/steps.ts"), httpApi: false },
  schedules: { entry: join(here, "entries/schedules.ts"), httpApi: false },
};

export const DIST = resolve(here, "../dist");

/** Bundles every handler into `outDir` (with `compileCache`: a shipped V8 code cache for those nodes). */
export function bundleHandlers(
  outDir: string = DIST,
  options: CompileCacheOptions = {},
): Promise<BundleResult[]> {
  return bundleAllWith(HANDLERS, outDir, { external: EXTERNAL, ...options });
}
