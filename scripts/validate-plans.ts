/**
 * Validate plan files offline: `npm run plans:validate -- [PATH ...]` (default: plans/).
 * Prints every error as `file:line:col path: message` and exits 1 when any file has one, so it works
 * in a pre-commit hook or CI. (The `aat plans validate` command will do the same through the CLI.)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { formatPlanError, loadPlanFile, NODE_TYPES } from "@aat/core";

function planFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return planFiles(child);
    return /\.ya?ml$/.test(entry.name) ? [child] : [];
  });
}

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ["plans"];
let failed = 0;
let checked = 0;
for (const root of roots) {
  let files: string[];
  try {
    files = planFiles(root);
  } catch {
    console.error(`${root}: no such file or directory; pass plan files or folders holding *.yaml plans`);
    failed++;
    continue;
  }
  for (const file of files.sort()) {
    checked++;
    const shown = relative(process.cwd(), file) || file;
    const result = loadPlanFile(readFileSync(file, "utf8"), { file: shown, nodeTypes: new Set(NODE_TYPES) });
    if (result.ok) {
      console.log(`ok   ${shown} (${result.definition.id} v${result.definition.version})`);
    } else {
      failed++;
      for (const error of result.errors) console.error(formatPlanError(error));
    }
  }
}
console.log(`${checked} plan file(s) checked, ${failed} with errors`);
process.exit(failed > 0 ? 1 : 0);
