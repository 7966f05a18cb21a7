/**
 * One esbuild bundle per serverless handler (ESM, minified, tree-shaken, node22, external source maps),
 * shared by the AWS, GCP and Azure targets. Each target lists its handlers in its own `bundle.ts`;
 * `npm run build:functions` (scripts/build-functions.ts) writes all of them to
 * functions/<target>/dist/<handler>/ and bench/coldstart measures them.
 *
 * Code splitting is on: what a handler reaches only through `await import()` (an SDK it may not use, the
 * HTTP API in a worker, MCP, model providers) lands in chunk files beside index.mjs and is read and
 * evaluated only when first used. `startBytes` counts index.mjs plus the chunks it imports statically
 * (what a cold start parses); `bytes` counts every file (what is deployed).
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

export interface BundleResult {
  name: string;
  /** The entry file (index.mjs). */
  file: string;
  /** Every output file with its size in bytes (entry and chunks; no source maps). */
  files: Array<{ file: string; bytes: number }>;
  /** Bytes of all output files. */
  bytes: number;
  /** Bytes loaded before the handler is ready: the entry and the chunks it imports statically. */
  startBytes: number;
  /** Output files loaded at start (the entry first). */
  startFiles: string[];
  metafile: Metafile;
}

export interface BundleOptions {
  /** Packages left out of the bundle, loaded from node_modules at run time (the host provides them). */
  external?: string[];
  /**
   * Modules replaced by a stub that loads fine and throws a clear error when used: libraries core
   * imports that a serverless runtime never calls (see OMITTED).
   */
  omit?: Record<string, string>;
  /**
   * False for a handler that never serves HTTP (a queue worker, a schedule): the HTTP API the serverless
   * runtime loads on its first request (functions/serverless/src/api-app.ts) is left out of its bundle
   * and replaced by a module that says so. Default true.
   */
  httpApi?: boolean;
  /**
   * package.json fields esbuild reads to find a package without an `exports` map (esbuild's default for
   * node: main, then module). The AWS target reads `module` first: see functions/aws/src/bundle.ts.
   */
  mainFields?: string[];
}

/** A handler of a target: its entry file, whether it serves the HTTP API, and its target's mainFields. */
export interface HandlerSpec {
  entry: string;
  httpApi: boolean;
  mainFields?: string[];
}

/** Stands in for functions/serverless/src/api-app.ts in bundles of handlers that serve no HTTP. */
const NO_HTTP_API = `export function buildApiApp() { throw new Error("this function's bundle has no HTTP API (it was built for a queue or schedule trigger); deploy the http handler's bundle to serve /v1"); }`;

const noHttpApi: Plugin = {
  name: "aat-no-http-api",
  setup(build) {
    build.onResolve({ filter: /^\.\/api-app\.js$/ }, (args) =>
      /functions\/serverless\/src$/.test(args.resolveDir)
        ? { path: "api-app", namespace: "aat-no-http-api" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "aat-no-http-api" }, () => ({
      contents: NO_HTTP_API,
      loader: "js",
    }));
  },
};

/**
 * Some dependencies call `require` for Node built-ins at run time, and some read `__dirname` (google-gax,
 * under @google-cloud/pubsub); in an ESM bundle those need a real `require` and `__dirname`, which this
 * banner provides (the usual esbuild recipe for ESM on Lambda).
 */
const REQUIRE_BANNER = [
  "import { createRequire as __aatCreateRequire } from 'node:module';",
  "import { dirname as __aatDirname } from 'node:path';",
  "import { fileURLToPath as __aatFileURLToPath } from 'node:url';",
  "const require = __aatCreateRequire(import.meta.url);",
  "const __filename = __aatFileURLToPath(import.meta.url);",
  "const __dirname = __aatDirname(__filename);",
].join(" ");

/**
 * Libraries core imports that the serverless bundles leave out: SQL analytics (its read-only guard parses
 * SQL with node-sql-parser, 2.5 MB) is not wired into the serverless runtime (functions/serverless/src/
 * runtime.ts registers no analytics routes or sql.* tools), and SMTP (nodemailer) is reached only by
 * notify.send to an `email` channel. They are replaced by modules that load fine and throw a clear error
 * if anything calls them (an email notification fails with that error; webhook, Slack and Teams channels
 * work). See docs/decisions.md and docs/adapters.md.
 */
export const OMITTED: Record<string, string> = {
  "node-sql-parser": `const fail = () => { throw new Error("SQL analytics is not part of the aat serverless bundles (node-sql-parser is left out); run analytics on the Node runtime"); };
export class Parser { astify() { fail(); } sqlify() { fail(); } whiteListCheck() { fail(); } tableList() { fail(); } columnList() { fail(); } parse() { fail(); } }
export default { Parser };`,
  nodemailer: `export function createTransport() { throw new Error("email notifications are not part of the aat serverless bundles (nodemailer is left out); send them from the Node runtime or through a webhook"); }
export default { createTransport };`,
};

function omitPlugin(omitted: Record<string, string>): Plugin {
  const names = Object.keys(omitted).map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return {
    name: "aat-omit-unused",
    setup(build) {
      if (names.length === 0) return;
      const filter = new RegExp(`^(${names.join("|")})$`);
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "aat-omitted" }));
      build.onLoad({ filter: /.*/, namespace: "aat-omitted" }, (args) => ({
        contents: omitted[args.path] ?? "",
        loader: "js",
      }));
    },
  };
}

/**
 * `import { z } from "zod"` (how the project's sources and the AI SDK import zod) binds zod's namespace
 * object as a named export, which esbuild cannot tree-shake: every locale and unused schema came along
 * (about 370 KiB in each bundle). `import * as z from "zod"` names the same functions and objects, and
 * esbuild keeps only the ones used. While bundling, this plugin rewrites those import lines (`{ z }` and
 * `{ z as z2 }` from "zod" or "zod/v4") into namespace imports; the files on disk stay as they are.
 *
 * One library then still uses the namespace as a value: @hono/zod-openapi calls
 * `extendZodWithOpenApi(z)`, which makes every export of zod live, its locales (about 250 KiB) included,
 * and since every module imports "zod", esbuild put them in the chunks the HTTP handler loads at start.
 * That function reads only `z.ZodType` (to add `.openapi()` to its prototype), so the call is rewritten to
 * pass just that (same effect); the locale zod uses by default (en) is imported by zod itself.
 */
const ZOD_NAMED_IMPORT =
  /import\s*\{\s*z(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*\}\s*from\s*(["'])(zod(?:\/v4)?)\2/g;

const ZOD_OPENAPI_EXTEND = /extendZodWithOpenApi\(z\);/;

const zodNamespace: Plugin = {
  name: "aat-zod-namespace",
  setup(build) {
    build.onLoad({ filter: /\.(ts|m?js)$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("zod")) return undefined;
      ZOD_NAMED_IMPORT.lastIndex = 0;
      if (!ZOD_NAMED_IMPORT.test(source)) return undefined;
      let contents = source.replace(
        ZOD_NAMED_IMPORT,
        (_match, alias: string | undefined, quote: string, specifier: string) =>
          `import * as ${alias ?? "z"} from ${quote}${specifier}${quote}`,
      );
      if (/@hono\/zod-openapi\/dist\/index\.mjs$/.test(args.path))
        contents = contents.replace(ZOD_OPENAPI_EXTEND, "extendZodWithOpenApi({ ZodType: z.ZodType });");
      return { contents, loader: args.path.endsWith(".ts") ? "ts" : "js" };
    });
  },
};

/**
 * @middy/core (the AWS handlers' middleware engine) imports node:stream, node:stream/promises,
 * node:stream/web and node:timers at its top for its response streaming mode (`streamifyResponse`),
 * which these handlers do not use; loading those modules cost about 8 ms of CPU at every AWS cold
 * start (docs/benchmarks.md, cold start). While bundling, this plugin replaces the four imports by
 * stand-ins that load the module on first use (process.getBuiltinModule returns the same objects) and
 * the global setTimeout (node:timers' own function). The build fails if middy's imports or its uses of
 * them change, so an upgrade cannot silently change behaviour.
 */
const MIDDY_IMPORTS = `import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ReadableStream } from "node:stream/web";
import { setTimeout } from "node:timers";
`;

const MIDDY_LAZY = `const Readable = { from: (...args) => process.getBuiltinModule("node:stream").Readable.from(...args) };
const pipeline = (...args) => process.getBuiltinModule("node:stream/promises").pipeline(...args);
const ReadableStream = { [Symbol.hasInstance]: (value) => value instanceof process.getBuiltinModule("node:stream/web").ReadableStream };
`;

/** How middy's code uses those imports: what the stand-ins implement. */
const MIDDY_USES: Array<[RegExp, number]> = [
  [/\bReadable\b/g, 2], // the import and `Readable.from(`
  [/\bReadable\.from\(/g, 1],
  [/\bpipeline\b/g, 2], // the import and `await pipeline(`
  [/\bpipeline\(/g, 1],
  [/\bReadableStream\b/g, 3], // the import, `instanceof ReadableStream` and an error message
  [/instanceof ReadableStream\b/g, 1],
];

const middyLazyStreams: Plugin = {
  name: "aat-middy-lazy-streams",
  setup(build) {
    build.onLoad({ filter: /[\\/]@middy[\\/]core[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const changed = (what: string) =>
        new Error(
          `@middy/core's ${what} changed (${args.path}): update functions/serverless/src/bundle.ts (middyLazyStreams)`,
        );
      if (!source.includes(MIDDY_IMPORTS)) throw changed("imports");
      for (const [pattern, count] of MIDDY_USES)
        if ((source.match(pattern) ?? []).length !== count) throw changed(`uses of ${pattern.source}`);
      return { contents: source.replace(MIDDY_IMPORTS, MIDDY_LAZY), loader: "js" };
    });
  },
};

/** Bundles one handler into `<outDir>/<name>/` (index.mjs, chunk-*.mjs, *.map), replacing what was there. */
export async function bundleEntry(
  name: string,
  entry: string,
  outDir: string,
  options: BundleOptions = {},
): Promise<BundleResult> {
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await build({
    entryPoints: { index: entry },
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    ...(options.mainFields ? { mainFields: options.mainFields } : {}),
    target: "node22",
    minify: true,
    treeShaking: true,
    sourcemap: "external",
    metafile: true,
    legalComments: "none",
    banner: { js: REQUIRE_BANNER },
    plugins: [
      omitPlugin(options.omit ?? OMITTED),
      zodNamespace,
      middyLazyStreams,
      ...(options.httpApi === false ? [noHttpApi] : []),
    ],
    external: options.external ?? [],
    logLevel: "error",
  });
  const outputs = result.metafile.outputs;
  const files = Object.entries(outputs)
    .filter(([path]) => path.endsWith(".mjs"))
    .map(([path, output]) => ({ file: resolve(path), bytes: output.bytes }));
  const entryPath = Object.keys(outputs).find((path) => path.endsWith("/index.mjs"));
  if (!entryPath) throw new Error(`esbuild wrote no index.mjs for ${name} (${entry})`);
  // The entry and every chunk reachable from it through static imports: what the cold start loads.
  const start = new Set<string>([entryPath]);
  const queue = [entryPath];
  while (queue.length > 0) {
    const current = queue.pop()!;
    for (const imported of outputs[current]?.imports ?? []) {
      if (imported.kind !== "import-statement" || imported.external) continue;
      if (!start.has(imported.path)) {
        start.add(imported.path);
        queue.push(imported.path);
      }
    }
  }
  const sizeOf = (path: string) => outputs[path]?.bytes ?? 0;
  return {
    name,
    file: resolve(entryPath),
    files,
    bytes: files.reduce((sum, { bytes }) => sum + bytes, 0),
    startBytes: [...start].reduce((sum, path) => sum + sizeOf(path), 0),
    startFiles: [...start].map((path) => resolve(path)),
    metafile: result.metafile,
  };
}

/** Bundles every handler of a target into `outDir`. */
export async function bundleHandlers(
  handlers: Record<string, HandlerSpec>,
  outDir: string,
  options: Omit<BundleOptions, "httpApi" | "mainFields"> = {},
): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const [name, spec] of Object.entries(handlers))
    results.push(
      await bundleEntry(name, spec.entry, outDir, {
        ...options,
        httpApi: spec.httpApi,
        ...(spec.mainFields ? { mainFields: spec.mainFields } : {}),
      }),
    );
  return results;
}
