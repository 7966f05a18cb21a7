/**
 * The gcp handlers and their bundles (the bundler is shared: functions/serverless/src/bundle.ts):
 * `npm run build:functions` writes them to functions/gcp/dist/<name>/ (index.mjs and its chunks), one
 * function per bundle. Two packages stay external, installed from the function's package.json by the
 * buildpack: the Functions Framework (its CLI, the platform's start command, loads the entry and must find
 * the functions registered in its own module instance) and @google-cloud/pubsub (google-gax reads
 * `__dirname` and its proto files, and esbuild's code splitting hands `await import()` of it an empty
 * namespace: the client fails to construct when bundled; it loads with the stores, not at start).
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
export const EXTERNAL = ["@google-cloud/functions-framework", "@google-cloud/pubsub"];

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
