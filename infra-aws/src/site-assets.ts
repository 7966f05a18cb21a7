import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** Thrown when the site is to be deployed but its build is missing. */
export class SiteNotBuiltError extends Error {
  constructor(readonly dir: string) {
    super(
      `the site is not built: ${join(dir, "index.html")} is missing. Run \`npm run build\` at the repository root ` +
        "(it writes site/dist), then synth or deploy again; or set `site: false` in the deploy configuration to deploy without the site.",
    );
    this.name = "SiteNotBuiltError";
  }
}

/** The built site folder, checked before anything is synthesised (a half-deployed site is worse than none). */
export function siteDist(dir: string): string {
  const full = resolve(dir);
  if (!existsSync(join(full, "index.html"))) throw new SiteNotBuiltError(full);
  return full;
}
