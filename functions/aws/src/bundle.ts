/**
 * Builds one Lambda bundle per handler with esbuild: ESM, minified, tree-shaken, node22, source maps
 * beside them. `npm run build:functions:aws` writes them to functions/aws/dist/<name>/index.mjs (zip each
 * folder and upload it with handler "index.handler").
 *
 * The AWS SDK is bundled, not left to the one in Lambda's runtime: the bundle then carries the exact SDK
 * version the tests ran against, and esbuild keeps only the clients and commands used (see
 * docs/benchmarks.md for the sizes and cold-start times, and the `sdkExternal` variant for comparison).
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

export const HANDLERS = {
  http: join(here, "entries/http.ts"),
  worker: join(here, "entries/worker.ts"),
  schedule: join(here, "entries/schedule.ts"),
} as const;

export interface BundleResult {
  name: string;
  file: string;
  bytes: number;
  metafile: Metafile;
}

/**
 * Some dependencies call `require` for Node built-ins at run time; in an ESM bundle that needs a real
 * `require`, which this banner provides (the usual esbuild recipe for ESM on Lambda).
 */
const REQUIRE_BANNER =
  "import { createRequire as __aatCreateRequire } from 'node:module'; const require = __aatCreateRequire(import.meta.url);";

/**
 * Libraries core imports statically that the Lambda bundles leave out: SQL analytics (its read-only
 * guard parses SQL with node-sql-parser, 2.5 MB) is not wired into the serverless runtime
 * (functions/serverless/src/runtime.ts registers no analytics routes or sql.* tools), and SMTP (nodemailer)
 * is reached only by notify.send to an `email` channel. They are replaced by modules that load fine and
 * throw a clear error if anything calls them (an email notification fails with that error; webhook,
 * Slack and Teams channels work). See docs/decisions.md and docs/adapters.md.
 */
const OMITTED: Record<string, string> = {
  "node-sql-parser": `const fail = () => { throw new Error("SQL analytics is not part of the aat Lambda bundles (node-sql-parser is left out); run analytics on the Node runtime"); };
export class Parser { astify() { fail(); } sqlify() { fail(); } whiteListCheck() { fail(); } tableList() { fail(); } columnList() { fail(); } parse() { fail(); } }
export default { Parser };`,
  nodemailer: `export function createTransport() { throw new Error("email notifications are not part of the aat Lambda bundles (nodemailer is left out); send them from the Node runtime or through a webhook"); }
export default { createTransport };`,
};

const omitUnused: Plugin = {
  name: "aat-omit-unused",
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(OMITTED).join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "aat-omitted" }));
    build.onLoad({ filter: /.*/, namespace: "aat-omitted" }, (args) => ({
      contents: OMITTED[args.path] ?? "",
      loader: "js",
    }));
  },
};

export async function bundleEntry(
  name: string,
  entry: string,
  outDir: string,
  options: { sdkExternal?: boolean } = {},
): Promise<BundleResult> {
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "index.mjs");
  const result = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    minify: true,
    treeShaking: true,
    sourcemap: "external",
    metafile: true,
    legalComments: "none",
    banner: { js: REQUIRE_BANNER },
    plugins: [omitUnused],
    // Lambda's Node 22 runtime ships AWS SDK v3 under @aws-sdk/*; the default bundles ours instead.
    external: options.sdkExternal ? ["@aws-sdk/*", "@smithy/*"] : [],
    logLevel: "error",
  });
  const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith("index.mjs"));
  return { name, file, bytes: output?.[1].bytes ?? 0, metafile: result.metafile };
}

/** Bundles every handler into `outDir`. */
export async function bundleHandlers(
  outDir: string,
  options: { sdkExternal?: boolean } = {},
): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const [name, entry] of Object.entries(HANDLERS))
    results.push(await bundleEntry(name, entry, outDir, options));
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(here, "../dist");
  for (const result of await bundleHandlers(outDir)) {
    console.log(`${result.name}: ${result.file} (${(result.bytes / 1024).toFixed(1)} KiB)`);
  }
}
