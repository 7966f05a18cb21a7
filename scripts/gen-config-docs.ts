/**
 * Writes docs/configuration.md from the config schema. `--check` only compares and exits 1 when the
 * committed file is stale (for CI).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderConfigDocs } from "../core/src/config/docs.js";

const target = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));
const fresh = renderConfigDocs();

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // A missing file is simply stale.
  }
  if (current !== fresh) {
    console.error("docs/configuration.md is stale: run npm run docs:config");
    process.exit(1);
  }
  console.log("docs/configuration.md is up to date");
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${target}`);
}
