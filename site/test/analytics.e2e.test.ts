import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { startNodeRuntime } from "@aat/functions-node";
import { chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ensureChromium,
  SHIPPED_PLANS,
  SITE_DIST,
  type SiteUnderTest,
  screenshot,
  seriousViolations,
  startSite,
} from "./harness.js";

/*
 * The Analytics page on the embedded default (offline model, the PGlite sample as data source):
 * ask with SQL → run of analytics.ask → chart, table and summary; a question in words gets the plain
 * "needs a model" answer; edit the SQL and run it again; export CSV; save a question; axe; 375 px.
 * Then a runtime with a model (the scripted OpenAI-compatible server): a question in words becomes
 * SQL, is repaired once from the database's error, and is drawn as the chart the model picked.
 */

let site: SiteUnderTest;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  site = await startSite();
  const context = await site.browser.newContext({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${site.url}/analytics/`);
  await page.getByLabel("API key").fill(site.adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Analytics", exact: true }).waitFor();
});

afterAll(async () => {
  await site?.stop();
});

/** The SQL editor (CodeMirror): its text, and typing a replacement as a user would. */
function sqlEditor(target: Page = page) {
  return target.getByRole("textbox", { name: /^SQL/ });
}
async function sqlText(target: Page = page): Promise<string> {
  return (await sqlEditor(target).locator(".cm-line").allTextContents()).join("\n");
}
async function typeSql(text: string) {
  await sqlEditor().click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(text);
  // Close the completion list if typing opened one.
  await page.keyboard.press("Escape");
  expect(await sqlText()).toBe(text);
}
/** The chart's canvas once Chart.js has drawn on it (some pixel is not transparent). */
async function drawnChart(type: string, target: Page = page) {
  const canvas = target.locator(`canvas[data-chart-type="${type}"]`);
  await canvas.waitFor();
  await target.waitForFunction(`(() => {
    const c = document.querySelector('canvas[data-chart-type="${type}"]');
    const data = c?.getContext("2d")?.getImageData(0, 0, c.width, c.height).data;
    return data !== undefined && data.some((value, index) => index % 4 === 3 && value > 0);
  })()`);
  return canvas;
}

async function expectAccessible(name: string) {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

describe("the Analytics page in a real browser", () => {
  it("shows the sample data source and its schema", async () => {
    await page.getByText("events", { exact: true }).waitFor();
    expect(await page.getByLabel("Data source", { exact: true }).inputValue()).toBe("sample");
    await page.getByText("logins", { exact: true }).click();
    const logins = page.locator("details").filter({ has: page.getByText("logins", { exact: true }) });
    await logins.getByText("source_ip", { exact: true }).waitFor();
  });

  it("asks with SQL and gets a chart, the table and the summary", async () => {
    await page
      .getByLabel("Question", { exact: true })
      .fill(
        "SELECT category, count(*) AS events FROM events WHERE severity = 'critical' GROUP BY category ORDER BY events DESC",
      );
    await page.getByRole("button", { name: "Ask" }).click();
    const bar = await drawnChart("bar");
    expect(await bar.getAttribute("data-points")).toBe("7");
    await page.getByRole("img", { name: /^bar chart of events by category, 7 points/ }).waitFor();
    await page.getByText("Ran your SQL as written").waitFor();
    const table = page.getByRole("table", { name: "Result" });
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).toBe(7);
    expect(await sqlText()).toContain("GROUP BY category");
    await expectAccessible("analytics result");
    await screenshot(page, "analytics");
  });

  it("a question in words says plainly that it needs a configured model", async () => {
    await page.getByLabel("Question", { exact: true }).fill("Which hosts had the most malware last month?");
    await page.getByRole("button", { name: "Ask" }).click();
    await page.getByText(/need a configured language model/).waitFor();
    await page.getByText("Schema hints").waitFor();
  });

  it("edits the SQL, runs it again as a line chart, exports CSV and saves the question", async () => {
    // The editor completes the sample's tables and columns (PostgreSQL dialect for PGlite).
    await sqlEditor().click();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.insertText("SELECT * FROM logi");
    await page.keyboard.press("Control+Space");
    await page.locator(".cm-tooltip-autocomplete").getByText("logins", { exact: true }).waitFor();
    await page.keyboard.press("Escape");

    await typeSql(
      "SELECT date_trunc('week', occurred_at) AS week, count(*) AS events FROM events GROUP BY 1 ORDER BY 1",
    );
    await page.getByRole("button", { name: "Run SQL" }).click();
    await drawnChart("line");
    expect(await page.getByRole("table", { name: "Result" }).locator("tbody tr").count()).toBeGreaterThan(10);

    await page.getByLabel("Type").selectOption("area");
    await drawnChart("area");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("sample-query.csv");
    const csv = await readFile((await download.path())!, "utf8");
    expect(csv.split("\r\n")[0]).toBe("week,events");
    expect(csv.trim().split("\r\n").length).toBeGreaterThan(10);

    await page.getByLabel("Save as").fill("Events per week");
    await page.getByRole("button", { name: "Save question" }).click();
    await page.getByRole("button", { name: "Events per week", exact: true }).waitFor();

    const refused = "DELETE FROM events";
    await typeSql(refused);
    // Ctrl/Cmd+Enter in the editor runs it.
    await page.keyboard.press("ControlOrMeta+Enter");
    await page
      .getByRole("alert")
      .filter({ hasText: /DELETE|read-only|SELECT/ })
      .waitFor();
  });

  it("works at 375 px wide", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByRole("button", { name: "Events per week", exact: true }).click();
    await drawnChart("area");
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible("analytics 375 px");

    // The dark theme: the chart is drawn again in the theme's colours.
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await drawnChart("area");
    await expectAccessible("analytics dark");
    await page.getByRole("button", { name: "Switch to light theme" }).click();
    expect(pageErrors).toEqual([]);
  });
});

describe("the Analytics page with a model (scripted OpenAI-compatible server)", () => {
  it("asks in words: the SQL is repaired once, the model's line chart and summary are shown", async () => {
    const server = await ScriptedLlmServer.start();
    const dataDir = await mkdtemp(join(tmpdir(), "aat-analytics-e2e-"));
    const runtime = await startNodeRuntime({
      config: aatConfigSchema.parse({
        dataDir,
        server: { host: "127.0.0.1", port: 0 },
        plans: { directories: [SHIPPED_PLANS], watch: false },
        telemetry: { logLevel: "silent" },
        models: {
          default: "smart",
          providers: {
            smart: {
              provider: "openai",
              model: "gpt-4o-mini",
              apiKey: "sk-test-analytics-e2e",
              baseUrl: server.openAiBaseUrl,
            },
          },
        },
      }),
      print: () => {},
      siteDir: SITE_DIST,
      env: {},
    });
    const browser = await chromium.launch({
      executablePath: ensureChromium(),
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
      const modelPage = await (
        await browser.newContext({ viewport: { width: 1280, height: 900 } })
      ).newPage();
      modelPage.setDefaultTimeout(60_000);
      await modelPage.goto(`${runtime.url}/analytics/`);
      await modelPage.getByLabel("API key").fill(key);
      await modelPage.getByRole("button", { name: "Sign in" }).click();
      await modelPage.getByText("events", { exact: true }).waitFor();

      const repaired =
        "SELECT date_trunc('week', occurred_at) AS week, count(*) AS events FROM events GROUP BY 1 ORDER BY 1";
      server.enqueue(
        {
          kind: "reply",
          text: JSON.stringify({
            sql: "SELECT date_trunc('week', occured_at) AS week, count(*) AS events FROM events GROUP BY 1 ORDER BY 1",
          }),
        },
        { kind: "reply", text: JSON.stringify({ sql: repaired }) },
        {
          kind: "reply",
          text: JSON.stringify({
            chart: { type: "line", x: "week", y: ["events"], title: "Events per week" },
            summary: "About 470 events a week, steady over the quarter.",
          }),
        },
      );
      await modelPage.getByLabel("Question", { exact: true }).fill("How many events were there each week?");
      await modelPage.getByRole("button", { name: "Ask" }).click();
      await drawnChart("line", modelPage);
      await modelPage.getByText("About 470 events a week").waitFor();
      await modelPage.getByText("Events per week", { exact: true }).waitFor();
      expect(await sqlText(modelPage)).toBe(repaired);
      expect(server.requests).toHaveLength(3);
      // The repair round carried the database's error about the misspelt column.
      expect(JSON.stringify(server.requests[1]!.body)).toMatch(/column \\"occured_at\\" does not exist/);
      const violations = await seriousViolations(modelPage);
      expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    } finally {
      await browser.close();
      await runtime.stop();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
