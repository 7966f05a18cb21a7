import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SiteUnderTest, screenshot, seriousViolations, startSite } from "./harness.js";

let site: SiteUnderTest;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  site = await startSite();
  const context = await site.browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await site?.stop();
});

async function expectAccessible(name: string) {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

describe("the site in a real browser", () => {
  it("asks for an API key, refuses a wrong one with the server's reason, signs in with the right one", async () => {
    await page.goto(`${site.url}/runs/`);
    await page.getByLabel("API key").waitFor();
    await expectAccessible("sign in");
    await screenshot(page, "sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Enter an API key").waitFor();
    await page.getByLabel("API key").fill("not-a-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#api-key-error").waitFor();
    expect(await page.locator("#api-key-error").textContent()).toMatch(/bearer token|credentials|401/i);
    await page.getByLabel("API key").fill(site.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Runs", exact: true }).waitFor();
  });

  it("starts a run and watches its timeline finish", async () => {
    await page.getByLabel("Input (JSON)").fill("{not json");
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByText("Input is not valid JSON").waitFor();
    await page.getByLabel("Plan").selectOption("automation.hello");
    await page.getByLabel("Input (JSON)").fill('{"names": ["Ada", "Grace", "Linus", "Barbara"]}');
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    await page.locator('[data-run-status="succeeded"]').waitFor();
    await page.locator('[data-step="summary"]').waitFor();
    expect(await page.locator(".steps > li").count()).toBeGreaterThan(3);
    await expectAccessible("run detail");
    await screenshot(page, "run");
    await page.goto(`${site.url}/runs/`);
    await page
      .getByRole("link", { name: /run_|[0-9a-f-]{8}/ })
      .first()
      .waitFor();
    await expectAccessible("runs");
    await screenshot(page, "runs");
  });

  it("never threw in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
