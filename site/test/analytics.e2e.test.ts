import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SiteUnderTest, screenshot, seriousViolations, startSite } from "./harness.js";

/*
 * The Analytics page on the embedded default (offline model, the PGlite sample as data source):
 * ask with SQL → run of analytics.ask → chart, table and summary; a question in words gets the plain
 * "needs a model" answer; edit the SQL and run it again; export CSV; save a question; axe; 375 px.
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
    await page.locator('svg[data-chart-type="bar"]').waitFor();
    expect(await page.locator('svg[data-chart-type="bar"] rect').count()).toBe(7);
    await page.getByText("Ran your SQL as written").waitFor();
    const table = page.getByRole("table", { name: "Result" });
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).toBe(7);
    expect(await page.getByLabel(/^SQL/).inputValue()).toContain("GROUP BY category");
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
    await page
      .getByLabel(/^SQL/)
      .fill(
        "SELECT date_trunc('week', occurred_at) AS week, count(*) AS events FROM events GROUP BY 1 ORDER BY 1",
      );
    await page.getByRole("button", { name: "Run SQL" }).click();
    await page.locator('svg[data-chart-type="line"]').waitFor();
    expect(await page.getByRole("table", { name: "Result" }).locator("tbody tr").count()).toBeGreaterThan(10);

    await page.getByLabel("Type").selectOption("area");
    await page.locator('svg[data-chart-type="area"]').waitFor();

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
    await page.getByLabel(/^SQL/).fill(refused);
    await page.getByRole("button", { name: "Run SQL" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /DELETE|read-only|SELECT/ })
      .waitFor();
  });

  it("works at 375 px wide", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByRole("button", { name: "Events per week", exact: true }).click();
    await page.locator('svg[data-chart-type="area"]').waitFor();
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible("analytics 375 px");
    expect(pageErrors).toEqual([]);
  });
});
