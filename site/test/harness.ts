import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";
import { type Browser, chromium, type Page } from "playwright-core";

export const SITE_DIST = fileURLToPath(new URL("../dist", import.meta.url));
export const SHIPPED_PLANS = fileURLToPath(new URL("../../plans", import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL("../../docs/screenshots", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium; installed with apt when missing (the project's browser test setup). */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM)) {
    execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "inherit" });
  }
  return CHROMIUM;
}

/** Headless Chromium with the flags in docs/site.md (no sandbox, no calls to Google's hosts). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface SiteUnderTest {
  url: string;
  adminKey: string;
  browser: Browser;
  stop(): Promise<void>;
}

/** The node runtime (embedded default, temp data dir, random port) serving site/dist, and a browser. */
export async function startSite(
  extra: {
    auth?: Record<string, unknown>;
    /** models config (e.g. an alias pointing at the scripted LLM server). */
    models?: Record<string, unknown>;
    /** coding config (e.g. workspaceRoot holding the test's fixture repository). */
    coding?: Record<string, unknown>;
  } = {},
): Promise<SiteUnderTest> {
  if (!existsSync(join(SITE_DIST, "index.html"))) {
    throw new Error(`${SITE_DIST} has no build: run \`npm run build\` before \`npm run test:e2e\``);
  }
  const dataDir = await mkdtemp(join(tmpdir(), "aat-site-e2e-"));
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { host: "127.0.0.1", port: 0 },
      plans: { directories: [SHIPPED_PLANS], watch: false },
      telemetry: { logLevel: "silent" },
      ...(extra.auth ? { auth: extra.auth } : {}),
      ...(extra.models ? { models: extra.models } : {}),
      ...(extra.coding ? { coding: extra.coding } : {}),
    }),
    print: () => {},
    siteDir: SITE_DIST,
  });
  const adminKey = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  if (!adminKey || !runtime.url) throw new Error("the runtime did not start with a fresh admin key");
  const browser = await launchChromium();
  return {
    url: runtime.url,
    adminKey,
    browser,
    async stop() {
      await browser.close();
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: axeSource });
  // A string, so this file needs no DOM types: it runs in the page, where axe is now global.
  const violations = (await page.evaluate(
    `axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  // A full-page capture of a scrolled page draws the sticky nav bar where the viewport was, mid-page.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
