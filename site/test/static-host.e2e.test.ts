import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import type { Browser, Page } from "playwright-core";
import sirv from "sirv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, SHIPPED_PLANS, SITE_DIST } from "./harness.js";

/**
 * The built site as any static host serves it: site/dist copied elsewhere, config.json pointing at
 * the API, served by a plain static file server (sirv) on its own origin; the node runtime runs
 * separately and lists that origin in server.corsOrigins.
 */

let tempDir: string;
let runtime: NodeRuntime;
let apiUrl: string;
let adminKey: string;
let browser: Browser;
const servers: Server[] = [];

async function serveStatic(root: string): Promise<string> {
  const handler = sirv(root, { dev: true });
  const server = createServer((req, res) =>
    handler(req, res, () => {
      res.statusCode = 404;
      res.end("not found");
    }),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A fresh page that records its errors and every request to the API's /v1. */
async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  const apiRequests: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/v1/")) apiRequests.push(request.url());
  });
  return { page, errors, apiRequests };
}

async function signIn(page: Page, origin: string) {
  await page.goto(`${origin}/runs/`);
  await page.getByLabel("API key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
}

let staticOrigin: string;
let unlistedOrigin: string;

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), "aat-static-host-"));
  const siteRoot = join(tempDir, "site");
  await cp(SITE_DIST, siteRoot, { recursive: true });
  // Two origins serving the same copy: one the API lists for CORS, one it does not.
  staticOrigin = await serveStatic(siteRoot);
  unlistedOrigin = await serveStatic(siteRoot);
  runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir: join(tempDir, "data"),
      server: { host: "127.0.0.1", port: 0, corsOrigins: [staticOrigin] },
      plans: { directories: [SHIPPED_PLANS], watch: false },
      telemetry: { logLevel: "silent" },
    }),
    print: () => {},
    // No site here: the pages come only from the static server.
    siteDir: join(tempDir, "no-site"),
  });
  adminKey = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  if (!adminKey || !runtime.url) throw new Error("the runtime did not start with a fresh admin key");
  apiUrl = runtime.url;
  await writeFile(
    join(siteRoot, "config.json"),
    JSON.stringify({ apiBaseUrl: apiUrl, auth: { mode: "apiKey" } }),
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe("the built site on a plain static file server, API on another origin", () => {
  it("signs in, runs automation.hello to success and opens Alerts, calling the API cross-origin", async () => {
    expect(new URL(staticOrigin).origin).not.toBe(new URL(apiUrl).origin);
    const { page, errors, apiRequests } = await openPage();
    const corsHeaders: string[] = [];
    page.on("response", (response) => {
      if (response.url().startsWith(`${apiUrl}/v1/`)) {
        corsHeaders.push(response.headers()["access-control-allow-origin"] ?? "");
      }
    });
    await signIn(page, staticOrigin);
    await page.getByRole("heading", { name: "Runs", exact: true }).waitFor();
    await page.getByLabel("Plan", { exact: true }).first().selectOption("automation.hello");
    await page.getByLabel("Input (JSON)").fill('{"names": ["Ada", "Grace"]}');
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    expect(new URL(page.url()).origin).toBe(staticOrigin);
    await page.locator('[data-run-status="succeeded"]').waitFor();
    await page.locator('[data-step="summary"]').waitFor();

    await page.goto(`${staticOrigin}/alerts/`);
    await page.getByRole("heading", { name: "Alerts", exact: true }).waitFor();
    await page.getByText(/No alerts yet/).waitFor();
    expect(await page.locator('.toast[role="alert"]').count()).toBe(0);
    expect(errors).toEqual([]);

    // Every API call went to the API's origin, none to the static host, and the API allowed the site's origin.
    expect(apiRequests.length).toBeGreaterThan(0);
    for (const url of apiRequests) expect(new URL(url).origin).toBe(new URL(apiUrl).origin);
    expect(apiRequests.some((url) => url.includes("/v1/runs"))).toBe(true);
    expect(apiRequests.some((url) => url.includes("/v1/alerts"))).toBe(true);
    expect(corsHeaders.length).toBeGreaterThan(0);
    expect(new Set(corsHeaders)).toEqual(new Set([staticOrigin]));
    await page.context().close();
  });

  it("an origin the API does not list for CORS gets a clear error, not a blank page", async () => {
    const { page, errors } = await openPage();
    await signIn(page, unlistedOrigin);
    const error = page.locator("#api-key-error");
    await error.waitFor();
    expect(await error.textContent()).toBe(`Cannot reach the API at ${new URL(apiUrl).origin}.`);
    // Still signed out: the form stays, with the API's address shown.
    await page.getByText(`Use an API key of this aat server (${apiUrl})`).waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
