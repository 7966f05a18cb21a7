/**
 * Some dependencies call `require` for Node built-ins at run time, and some read `__dirname` (google-gax,
 * under @google-cloud/pubsub); in an ESM bundle those need a real `require` and `__dirname`, which this
 * banner provides (the usual esbuild recipe for ESM on Lambda).
 */
export const REQUIRE_BANNER = [
  "import { createRequire as __aatCreateRequire } from 'node:module';",
  "import { dirname as __aatDirname } from 'node:path';",
  "import { fileURLToPath as __aatFileURLToPath } from 'node:url';",
  "const require = __aatCreateRequire(import.meta.url);",
  "const __filename = __aatFileURLToPath(import.meta.url);",
  "const __dirname = __aatDirname(__filename);",
].join(" ");
