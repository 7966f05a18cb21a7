import { config, memoizer } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * What classic zod installs when it builds its first schema, installed when nothing did: English
 * messages (zod/mini loads no locale, and config, plan, record and tool errors read zod's messages) and
 * the memoizer containers attach to when they are built (the same parse of shared and cyclic input as
 * with classic zod). Every module that builds zod/mini schemas calls it first, so they behave the same
 * whether or not classic zod is loaded (it is not, at a serverless handler's start). A call, not a bare
 * `import "./…"`: core's package.json says `"sideEffects": false`, so bundlers drop a bare import. Only
 * fills what is unset: a process that chose another locale keeps it.
 */
export function installZodDefaults(): void {
  if (!config().localeError) config(en());
  if (!config().memoizer) config({ memoizer: memoizer() });
}
