import { config, memoizer } from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * What classic zod installs when it builds its first schema, installed here when nothing did: English
 * messages (zod/mini loads no locale, and plan errors read zod's messages, see zod-issues.ts) and the
 * memoizer containers attach to when they are built (the same parse of inputs with reference cycles as
 * with classic zod). Called before the plan's first zod/mini schema is built, so the plan's schemas
 * behave the same whether or not classic zod is loaded. A call, not a bare `import "./…"`: core's
 * package.json says `"sideEffects": false`, so bundlers drop a bare import.
 */
export function installZodDefaults(): void {
  if (!config().localeError) config(en());
  if (!config().memoizer) config({ memoizer: memoizer() });
}
