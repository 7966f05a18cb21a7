import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CART_CLAMP_DIFF, SHOP_SOURCES, writeGitRepository } from "@aat/coding/testing";
import { ScriptedLlmServer } from "@aat/core/testing";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCREENSHOTS, type SiteUnderTest, screenshot, seriousViolations, startSite } from "./harness.js";

/*
 * The Coding page in a real browser against the node runtime: a fixture repository (the coding
 * package's per-language samples plus a small shop in TypeScript, committed with git) is added through
 * the page's form and indexed; search opens a result at its line; the outline lists the file's
 * symbols; go-to-definition follows a call into another file; a question is answered by
 * coding.explain with a cited line that opens the file; a change run (coding.change through the
 * scripted model server) proposes a diff that waits for approval, which the page approves — and the
 * commit is on a new branch in git.
 */

const LANGUAGE_FIXTURES = fileURLToPath(new URL("../../coding/test/fixtures/languages", import.meta.url));

const SHOP: Record<string, string> = {
  ...SHOP_SOURCES,
  "README.md": "# Shop\n\nA tiny shop for the browser test.\n",
};

const DIFF = CART_CLAMP_DIFF;

let llm: ScriptedLlmServer;
let site: SiteUnderTest;
let page: Page;
let root: string;
let repo: string;
const pageErrors: string[] = [];
const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "aat-site-coding-"));
  repo = join(root, "shop");
  await cp(LANGUAGE_FIXTURES, join(repo, "samples"), { recursive: true });
  await writeGitRepository(repo, SHOP);

  llm = await ScriptedLlmServer.start();
  site = await startSite({
    coding: { workspaceRoot: root },
    models: {
      default: "coder",
      providers: {
        coder: {
          provider: "openai-compatible",
          model: "scripted-coder",
          baseUrl: llm.openAiBaseUrl,
          apiKey: "sk-site-coding-test-123456",
        },
      },
    },
  });
  const context = await site.browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  // Runs go through the engine and the scripted model: give them room on a busy machine.
  page.setDefaultTimeout(60_000);
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await site?.stop();
  await llm?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function expectAccessible(name: string) {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}

/** Clicks the middle of `word` inside the editor line that contains `lineText`. */
async function clickWord(lineText: string, word: string, modifiers: Array<"Control"> = []) {
  const box = (await page.evaluate(
    `(() => {
      const line = [...document.querySelectorAll(".cm-line")].find((l) => l.textContent.includes(${JSON.stringify(lineText)}));
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent.indexOf(${JSON.stringify(word)});
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + ${word.length});
        const r = range.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }
      return null;
    })()`,
  )) as { x: number; y: number } | null;
  if (!box) throw new Error(`"${word}" is not shown on a line with "${lineText}"`);
  for (const key of modifiers) await page.keyboard.down(key);
  await page.mouse.click(box.x, box.y);
  for (const key of modifiers) await page.keyboard.up(key);
}

const activeLine = () => page.locator(".cm-activeLine").textContent();

describe("the Coding page", () => {
  it("adds the fixture repository through the form (checked before submit, server reasons at the field) and indexes it", async () => {
    await page.goto(`${site.url}/coding/`);
    await page.getByLabel("API key").fill(site.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Coding", exact: true }).waitFor();
    // No repository yet: the add form is open.
    await page.getByRole("button", { name: "Add and index" }).click();
    await page.locator("#add-repo-id-error").waitFor();
    expect(await page.locator("#add-repo-path-error").textContent()).toMatch(/workspace root/);
    await page.getByLabel("Id", { exact: true }).fill("bad id!");
    await page.getByRole("button", { name: "Add and index" }).click();
    expect(await page.locator("#add-repo-id-error").textContent()).toMatch(/letters, digits/);
    // A directory outside the workspace root: the server refuses it, and says so at the field.
    await page.getByLabel("Id", { exact: true }).fill("shop");
    await page.getByLabel(/^Directory/).fill("../../etc");
    await page.getByRole("button", { name: "Add and index" }).click();
    await page.locator("#add-repo-path-error").waitFor();
    expect(await page.locator("#add-repo-path-error").textContent()).toMatch(/outside|root|escape/i);
    await expectAccessible("coding, add form with errors");
    await page.getByLabel(/^Directory/).fill("shop");
    await page.getByRole("button", { name: "Add and index" }).click();
    await page.locator('[data-index-status="ready"]').waitFor();
    expect(await page.locator(".status").textContent()).toMatch(/\d+ files/);
    // Re-index: the job runs again (nothing changed, so it is quick) and the status comes back.
    await page.getByRole("button", { name: "Re-index" }).click();
    await page.locator('[data-index-status="ready"]').waitFor();
    await page.getByRole("button", { name: "Re-index" }).and(page.locator(":enabled")).waitFor();
    // The tree lists the repository's top level.
    await page.getByRole("button", { name: "src/" }).click();
    await page.locator('button[data-path="src/cart.ts"]').waitFor();
  });

  it("searches, opens a result at its line, shows the outline and goes to a definition", async () => {
    // Empty search: said at the field, nothing sent. Then Enter in the field searches (keyboard path).
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.locator("#code-search-error").waitFor();
    await page.getByLabel("Search", { exact: true }).fill("applyDiscount");
    await page.getByLabel("Search", { exact: true }).press("Enter");
    const first = page.locator("ol.hits > li").first();
    await first.waitFor();
    expect(await first.getAttribute("data-hit")).toBe("src/discount.ts");
    await first.getByRole("button", { name: "src/discount.ts" }).click();
    await page.getByRole("heading", { name: "src/discount.ts" }).waitFor();
    await page.locator(".cm-line", { hasText: "const total = cartTotal(items);" }).waitFor();
    // Highlighted (the TypeScript mode loads on demand): keywords are told from names from here on.
    await page.locator('.viewer[data-language="typescript"]').waitFor();
    await expect.poll(activeLine).toContain("export function applyDiscount");
    // The outline is the index's symbols of this file.
    await page.locator('.symbols [data-symbol="applyDiscount"]').waitFor();
    // A keyword under the cursor is no name: nothing to go to.
    await clickWord("export function applyDiscount", "export");
    expect(await page.getByRole("button", { name: "Go to definition", exact: true }).isDisabled()).toBe(true);
    // A name under the cursor: the button goes to its definition, in another file.
    await clickWord("const total = cartTotal(items);", "cartTotal");
    await page.getByRole("button", { name: "Go to definition of cartTotal" }).click();
    await page.getByRole("heading", { name: "src/cart.ts" }).waitFor();
    await expect.poll(activeLine).toContain("export function cartTotal");
    await page.locator('.symbols [data-symbol="CartItem"]').waitFor();
    // Ctrl+click does the same: back to applyDiscount's file through the tree, then into cart.ts again.
    await page.locator('button[data-path="src/discount.ts"]').click();
    await page.getByRole("heading", { name: "src/discount.ts" }).waitFor();
    await page.locator(".cm-line", { hasText: "const total = cartTotal(items);" }).waitFor();
    await clickWord("const total = cartTotal(items);", "cartTotal", ["Control"]);
    await page.getByRole("heading", { name: "src/cart.ts" }).waitFor();
    await expect.poll(activeLine).toContain("export function cartTotal");
    // F12 on the name under the cursor does the same.
    await page.locator('button[data-path="src/discount.ts"]').click();
    await page.locator(".cm-line", { hasText: "const total = cartTotal(items);" }).waitFor();
    await clickWord("const total = cartTotal(items);", "cartTotal");
    await page.keyboard.press("F12");
    await page.getByRole("heading", { name: "src/cart.ts" }).waitFor();
    await expect.poll(activeLine).toContain("export function cartTotal");
    // The outline moves the cursor within the file.
    await page.locator('.symbols [data-symbol="CartItem"]').click();
    await expect.poll(activeLine).toContain("export interface CartItem");
  });

  it("answers a question with coding.explain and opens the cited lines", async () => {
    llm.enqueue({
      kind: "reply",
      text: JSON.stringify({
        answer: "The total is the sum of price × quantity over the items [1].",
        citations: [{ path: "src/cart.ts", startLine: 8, endLine: 10, note: "the sum" }],
      }),
    });
    const ask = page.getByRole("region", { name: "Ask about the code" });
    await ask.getByLabel("Message").fill("How is the cart total computed?");
    await ask.getByRole("button", { name: "Send" }).click();
    // The reply, or what went wrong instead (shown in the failure message).
    const reply = ask.locator("article.assistant").last();
    await expect
      .poll(() => reply.textContent(), { timeout: 60_000 })
      .toMatch(/sum of price|failed|error|refused/i);
    expect(await reply.textContent()).toContain("The total is the sum of price × quantity");
    await page.locator('.symbols [data-symbol="CartItem"]').click();
    await ask.getByRole("button", { name: /src\/cart\.ts:8-10/ }).click();
    await expect.poll(activeLine).toContain("export function cartTotal");
    await expectAccessible("coding, file and answer");
    for (const close of await page.getByRole("button", { name: "Dismiss" }).all()) await close.click();
    await screenshot(page, "coding");
  });

  it("reviews a change run's diff, refuses a rejection without a reason, approves it and shows the branch", async () => {
    llm.enqueue({
      kind: "reply",
      text: JSON.stringify({ summary: "Clamp the cart total at zero.", diff: DIFF }),
    });
    const change = page.getByRole("region", { name: "Change the code" });
    await change.getByRole("button", { name: "Propose a change" }).click();
    await change.getByText("Describe the change first").waitFor();
    await change.getByLabel("Describe a change").fill("Returns must never make the cart total negative.");
    await change.getByRole("button", { name: "Propose a change" }).click();
    const review = change.locator('[data-diff-status="awaiting_approval"]');
    await review.waitFor();
    expect(new URL(page.url()).searchParams.get("run")).toMatch(/.+/);
    await review.getByText("+2").waitFor();
    await review.getByText("Math.max(0, items.reduce").waitFor();
    // Side by side shows the same change.
    await review.getByLabel("Side by side").check();
    await review.locator("table.split td.add", { hasText: "Math.max(0" }).waitFor();
    await review.getByLabel("Unified").check();
    await change.scrollIntoViewIfNeeded();
    await expectAccessible("coding, diff review");
    await page.screenshot({ path: join(SCREENSHOTS, "coding-diff.png") });
    await review.getByRole("button", { name: "Reject" }).click();
    await review.getByText("Say why the diff is rejected").waitFor();
    expect(git("branch", "--list").trim()).toBe("* main");
    await review.getByLabel(/Rationale/).fill("Clamping is what we want.");
    await review.getByRole("button", { name: "Approve and apply" }).click();
    const applied = change.locator("[data-applied-branch]");
    await applied.waitFor();
    await change.locator('[data-outcome="applied"]').waitFor();
    const branch = (await applied.getAttribute("data-applied-branch")) as string;
    expect(branch).toMatch(/^aat\/patch-/);
    expect(await applied.locator("pre").textContent()).toMatch(/src\/cart\.ts/);
    // git: the commit is on the new branch; main and the working tree are untouched.
    expect(git("show", `${branch}:src/cart.ts`)).toContain("Math.max(0, items.reduce(");
    expect(await readFile(join(repo, "src/cart.ts"), "utf8")).toBe(SHOP["src/cart.ts"]);
    await change.getByText(/Approved by .*Clamping is what we want/).waitFor();
  });

  it("proposes a fix for a failing test (checked before submit) and opens the cause's location", async () => {
    const change = page.getByRole("region", { name: "Change the code" });
    await change.getByLabel("Fix a failing test").check();
    await change.getByRole("button", { name: "Propose a fix" }).click();
    await change.locator("#test-output-error").waitFor();
    llm.enqueue({
      kind: "reply",
      text: JSON.stringify({
        cause: "Returns have a negative quantity, so the total can drop below zero.",
        locations: [{ path: "src/cart.ts", line: 9, note: "the sum" }],
        diff: DIFF,
      }),
    });
    await change
      .getByLabel("Failing test output")
      .fill("FAIL test/cart.test.ts > cartTotal never negative\nexpected 0, received -500");
    await change.getByRole("button", { name: "Propose a fix" }).click();
    const outcome = change.locator('[data-outcome="proposed"]');
    await outcome.waitFor();
    await outcome.getByText("Returns have a negative quantity").waitFor();
    await change.locator('[data-diff-status="proposed"]').first().waitFor();
    await outcome.getByRole("button", { name: "src/cart.ts:9" }).click();
    await expect.poll(activeLine).toContain("return items.reduce");
    // A proposal only: nothing was written.
    expect(await readFile(join(repo, "src/cart.ts"), "utf8")).toBe(SHOP["src/cart.ts"]);
    await expectAccessible("coding, fix-test proposal");
  });

  it("is usable at 375 px wide in the dark theme", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    await page.locator('[data-index-status="ready"]').waitFor();
    await page.locator('[data-outcome="proposed"]').waitFor();
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    const wide = await page.evaluate(
      `[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(-5).map((e) => e.tagName + "." + e.className)`,
    );
    expect(overflow, JSON.stringify(wide)).toBeLessThanOrEqual(0);
    await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    await expectAccessible("coding, dark, 375 px");
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it("deletes the repository after a confirmation, leaving the directory alone", async () => {
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("form", { name: "Add a repository" }).waitFor();
    expect(await page.locator("#repo").inputValue()).toBe("");
    expect(await readFile(join(repo, "src/cart.ts"), "utf8")).toBe(SHOP["src/cart.ts"]);
  });

  it("never threw in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
