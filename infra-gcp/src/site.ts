import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { extname, join, relative, resolve, sep } from "node:path";

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

export interface SiteFile {
  /** Object name (path relative to the site root, `/`-separated). */
  key: string;
  path: string;
  contentType: string;
  /** A construct id for the file (short, stable, unique). */
  id: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
  ".woff2": "font/woff2",
  ".webmanifest": "application/manifest+json",
};

/** Every file of the built site, checked first (a half-deployed site is worse than none). */
export function siteFiles(dir: string): SiteFile[] {
  const root = resolve(dir);
  if (!existsSync(join(root, "index.html"))) throw new SiteNotBuiltError(root);
  const files: SiteFile[] = [];
  const walk = (current: string) => {
    for (const name of readdirSync(current).sort()) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const key = relative(root, path).split(sep).join("/");
        files.push({
          key,
          path,
          contentType: TYPES[extname(name).toLowerCase()] ?? "application/octet-stream",
          id: createHash("sha256").update(key).digest("hex").slice(0, 12),
        });
      }
    }
  };
  walk(root);
  return files;
}
