/**
 * Whether this process runs its bundle with the shipped V8 code cache (compile-cache.ts), so that a
 * runtime can say once, at start, why a cold start compiles from source when it does not: V8 refused the
 * cache (the runtime's node is of another release line than the one that made it, or was started with
 * other V8 flags), none was made for this node's major and arch, or source maps are on (the loader then
 * compiles through Node's CommonJS loader, which maps stack traces but takes no cache). It reads the
 * loader's registry; a bundle without the loader (plain ES modules, tests) has nothing to report.
 */
import { MADE_BY, PACK, SCRIPTS_KEY } from "./compile-cache-names.js";

interface LoaderRegistry {
  scripts: Map<string, { cache: "accepted" | "rejected" | "none" }>;
  cacheDir?: string;
}

export interface CodeCacheProblem {
  /** `rejected`: V8 refused it; `missing`: none for this node; `source-maps`: --enable-source-maps is on. */
  state: "rejected" | "missing" | "source-maps";
  /** This process: node version, arch and the flags it was started with. */
  running: { node: string; arch: string; flags: string[] };
  /** The caches the bundle carries (their made-by.json): what made them. */
  shipped: unknown[];
  /** What to do about it, for the log line. */
  fix: string;
}

/** Reads a cache folder's made-by.json files without a static import of node:fs (none at the start). */
function shippedCaches(cacheDir: string): unknown[] {
  const { readdirSync, readFileSync } = process.getBuiltinModule("node:fs");
  const root = cacheDir.replace(/[^/\\]+[/\\]$/, "");
  try {
    return readdirSync(root).map((tag) => {
      try {
        return JSON.parse(readFileSync(`${root}${tag}/${MADE_BY}`, "utf8")) as unknown;
      } catch {
        return { tag };
      }
    });
  } catch {
    return [];
  }
}

export function codeCacheProblem(): CodeCacheProblem | undefined {
  const registry = (globalThis as Record<symbol, LoaderRegistry | undefined>)[Symbol.for(SCRIPTS_KEY)];
  if (!registry?.cacheDir) return undefined;
  const running = { node: process.version, arch: process.arch, flags: process.execArgv };
  if (process.sourceMapsEnabled)
    return {
      state: "source-maps",
      running,
      shipped: shippedCaches(registry.cacheDir),
      fix: "--enable-source-maps (NODE_OPTIONS) turns the shipped code cache off; the handlers map logged stack traces themselves, so drop it",
    };
  const cache = registry.scripts.get(PACK)?.cache;
  if (cache === undefined || cache === "accepted") return undefined;
  return {
    state: cache === "rejected" ? "rejected" : "missing",
    running,
    shipped: shippedCaches(registry.cacheDir),
    fix: "rebuild the bundles with this node's exact version and the V8 flags it runs with (npm run build:functions -- --node-version X.Y.Z --v8-flags '…'; docs/deploy-aws.md)",
  };
}
