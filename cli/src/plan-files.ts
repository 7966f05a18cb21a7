import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { PlanLoadError } from "@aat/core";

// @aat/core is large: loaded only by the commands that check plans, so the others start quickly.
const core = () => import("@aat/core");

/** Plan files under `path`: the file itself, or every *.yaml / *.yml below a folder, sorted. */
export function planFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((entry) => {
      const child = join(path, entry.name);
      if (entry.isDirectory()) return planFiles(child);
      return /\.ya?ml$/.test(entry.name) ? [child] : [];
    })
    .sort();
}

export type FileCheck =
  | { file: string; ok: true; id: string; version: number; source: string }
  | { file: string; ok: false; errors: Array<PlanLoadError & { formatted: string }>; source?: string };

/**
 * Checks plan files offline with core's loader, exactly as `npm run plans:validate` does: schema,
 * expressions, step references and node types (the server also knows its tool catalog).
 */
export async function checkPlanPaths(roots: string[]): Promise<{ checks: FileCheck[]; missing: string[] }> {
  const checks: FileCheck[] = [];
  const missing: string[] = [];
  for (const root of roots) {
    let files: string[];
    try {
      files = planFiles(root);
    } catch {
      missing.push(root);
      continue;
    }
    for (const file of files) checks.push(await checkPlanFile(file));
  }
  return { checks, missing };
}

export async function checkPlanFile(file: string): Promise<FileCheck> {
  const { formatPlanError, loadPlanFile, NODE_TYPES } = await core();
  // Relative to where aat runs (as npm run plans:validate prints them), unless that climbs out of it.
  const near = relative(process.cwd(), file);
  const shown = near && !near.startsWith("..") ? near : file;
  const source = readFileSync(file, "utf8");
  const result = loadPlanFile(source, { file: shown, nodeTypes: new Set(NODE_TYPES) });
  if (result.ok) {
    return { file: shown, ok: true, id: result.definition.id, version: result.definition.version, source };
  }
  return {
    file: shown,
    ok: false,
    source,
    errors: result.errors.map((error) => ({ ...error, formatted: formatPlanError(error) })),
  };
}
