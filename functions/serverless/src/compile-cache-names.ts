/**
 * The names a code-cache bundle's build (compile-cache.ts) and its runtime (code-cache-status.ts) share;
 * a module of its own so the runtime side does not import the build side (esbuild). The generator
 * (compile-cache-generate.mjs, run by the target's node without TypeScript) spells MADE_BY and
 * SCRIPTS_KEY itself.
 */
/** The script the loader runs first: the bundle's entry. */
export const MAIN = "main.js";
/**
 * The start's scripts (the entry and the chunks it imports statically) once more, as one script of
 * module functions: one file to read and one cache to deserialise instead of ~20 (each costs ~0.1 ms
 * however small). The separate files stay for source-mapped runs and are what the maps describe.
 */
export const PACK = "start.js";
export const CACHE_DIR = "code-cache";
/** Beside each cache: `{ node, arch, v8, flags }` of the node that made it. */
export const MADE_BY = "made-by.json";
/** The global symbol key of the loader's registry, for the generator and tests: `{ scripts, compile }`. */
export const SCRIPTS_KEY = "aat.bundleScripts";
