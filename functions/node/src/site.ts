import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";

/** Where the site's static build lands: `npm run build` writes it (site/, docs/site.md). */
export const DEFAULT_SITE_DIR = fileURLToPath(new URL("../../../site/dist", import.meta.url));

/**
 * What is served outside the API: the site's static build when `siteDir` holds one, otherwise a plain
 * page that says what this server offers. Requests it cannot answer go to `notFound` (the API's
 * problem+json 404).
 */
export function createSiteApp(
  siteDir: string,
  notFound: (request: Request) => Response | Promise<Response>,
): Hono {
  const site = new Hono();
  if (existsSync(siteDir) && statSync(siteDir).isDirectory()) {
    site.use("/*", serveStatic({ root: siteDir }));
  } else {
    site.get("/", (c) => c.html(landingPage()));
  }
  site.notFound((c) => notFound(c.req.raw));
  return site;
}

function landingPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aat: AI Agent Tool</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>aat is running</h1>
<p>This server runs the aat HTTP API, its worker and its scheduler. The web site is not built in
this installation, so there is no user interface here yet: run <code>npm run build</code> in the
repository (it writes <code>site/dist</code>) and restart, or use the API directly.</p>
<ul>
<li><a href="/v1/openapi.json">/v1/openapi.json</a>: the OpenAPI 3.1 description of every route</li>
<li><a href="/healthz">/healthz</a>: liveness, <a href="/readyz">/readyz</a>: readiness</li>
</ul>
<p>Calls under <code>/v1</code> need <code>Authorization: Bearer &lt;api key&gt;</code>; the first admin key
was printed when the server first started. The README's quick start shows how to start a run, and
<code>docs/</code> in the repository explains plans, the engine, configuration and operations.</p>
</body>
</html>
`;
}
