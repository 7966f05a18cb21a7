import { config, memoizer } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * Installs what classic zod installs when it builds its first schema, when nothing did: English
 * messages (zod/mini loads no locale; a config problem zod words itself, and the error of
 * aatConfigSchema.parse, read them) and the memoizer containers attach to when they are built (the
 * same parse of shared and cyclic input as with classic zod). Called at the top of the modules that
 * build the configuration's zod/mini schemas, before they build any, so those behave the same whether
 * or not classic zod is loaded. A call, not a bare import: core's package.json declares
 * "sideEffects": false, so bundlers drop a module imported for its side effects only.
 * Only fills what is unset, so it agrees with core/src/plan/zod-defaults.ts whichever runs first.
 */
export function ensureZodDefaults(): void {
  if (!config().localeError) config(en());
  if (!config().memoizer) config({ memoizer: memoizer() });
}
