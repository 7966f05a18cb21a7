import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHIPPED_PLANS, type SiteUnderTest, screenshot, seriousViolations, startSite } from "./harness.js";

let site: SiteUnderTest;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  site = await startSite();
  const context = await site.browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
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
    // The start form's plan picker (the list's filter form has one too, further down).
    await page.getByLabel("Plan", { exact: true }).first().selectOption("automation.hello");
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
    // Filters are applied by the API over every run: none failed, the run that succeeded is found.
    const filters = page.getByRole("form", { name: "Filter runs" });
    await filters.getByLabel("Status").selectOption("failed");
    await page.getByText("No runs match these filters.").waitFor();
    await filters.getByLabel("Status").selectOption("succeeded");
    await filters.getByLabel("Plan").selectOption("automation.hello");
    await page.locator("tbody tr .badge.succeeded").first().waitFor();
    await filters.getByLabel("Status").selectOption("");
    await filters.getByLabel("Plan").selectOption("");
    await expectAccessible("runs");
    await screenshot(page, "runs");
  });

  it("chats with a streamed reply from the offline model", async () => {
    await page.goto(`${site.url}/chat/`);
    await page.getByRole("button", { name: "New chat" }).click();
    const input = page.getByLabel("Message");
    await input.waitFor();
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("Write a message first.").waitFor();
    await input.fill("Hello there, what can you do?");
    await page.getByRole("button", { name: "Send" }).click();
    const reply = page.locator("article.assistant .md");
    await expect.poll(async () => (await reply.last().textContent())?.trim().length ?? 0).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Send" }).waitFor();
    // Context picker: search the runs, attach the hello run to this session, see it on the session.
    await page.getByRole("button", { name: "Attach alert or run" }).click();
    await page.getByRole("button", { name: "Runs", exact: true }).click();
    await page.getByLabel("Search runs by id or plan").fill("nosuchplan");
    await page.getByText("No runs match.").waitFor();
    await page.getByLabel("Search runs by id or plan").fill("automation.hello");
    await page
      .getByRole("button", { name: /automation\.hello v1/ })
      .first()
      .click();
    const chip = page.locator('[data-context^="run:"]');
    await chip.waitFor();
    await page.locator("button.session[aria-current] >> text=run").waitFor();
    await expectAccessible("chat with context picker");
    await screenshot(page, "chat");
    const session = new URL(page.url()).searchParams.get("session");
    const stored = await fetch(`${site.url}/v1/chat/sessions/${session}`, {
      headers: { authorization: `Bearer ${site.adminKey}` },
    });
    const detail = (await stored.json()) as { session: { context: Array<{ kind: string }> } };
    expect(detail.session.context.map((c) => c.kind)).toEqual(["run"]);

    // The reply's stream breaks right after the turn starts: the page follows the turn's run instead
    // of asking again, and shows the stored reply.
    const replies = await reply.count();
    await page.route("**/v1/chat/sessions/*/messages", async (route) => {
      const real = await route.fetch();
      const firstEvent = `${(await real.text()).split("\n\n")[0]}\n\n`;
      expect(firstEvent).toContain("event: turn");
      await route.fulfill({ status: 200, contentType: "text/event-stream", body: firstEvent });
    });
    await input.fill("And what else?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("The connection was lost; the reply was recovered from its run.").waitFor();
    await expect.poll(async () => reply.count()).toBe(replies + 1);
    expect((await reply.last().textContent())?.trim().length).toBeGreaterThan(0);
    await page.unroute("**/v1/chat/sessions/*/messages");
  });

  it("edits a plan with an error, shows it at its line, fixes it and publishes a new version", async () => {
    await page.goto(`${site.url}/automation/`);
    await page.getByRole("link", { name: "automation.hello" }).click();
    await page.waitForURL(/\/automation\/\?id=automation\.hello/);
    const editor = page.locator(".cm-content");
    await editor.waitFor();
    await page.getByText("✓ Valid plan").waitFor();
    const source = await readFile(join(SHIPPED_PLANS, "automation/hello.yaml"), "utf8");
    const lines = source.split("\n");
    const badLine = lines.findIndex((line) => line.includes("concurrency: 2")) + 1;
    expect(badLine).toBeGreaterThan(0);
    await editor.fill(source.replace("concurrency: 2", "concurrency: many"));
    const problem = page.locator(`.problem[data-line="${badLine}"]`);
    await problem.waitFor();
    expect(await problem.textContent()).toContain(`Line ${badLine}`);
    // Following the problem puts the cursor on it; the editor marks that same line.
    await problem.getByRole("button", { name: `Line ${badLine}` }).click();
    const marked = page.locator(".cm-line", { has: page.locator(".cm-lintRange-error") });
    await marked.waitFor();
    expect(await marked.textContent()).toContain("concurrency: many");
    expect(await page.locator(".cm-activeLine").textContent()).toContain("concurrency: many");
    expect(await page.getByRole("button", { name: "Publish new version" }).isDisabled()).toBe(true);
    await screenshot(page, "automation-error");
    await editor.fill(source.replace("concurrency: 2", "concurrency: 3"));
    await page.getByText("✓ Valid plan").waitFor();
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.locator('[aria-label="Dry run result"] [data-run-status="succeeded"]').waitFor();
    await page.getByRole("button", { name: "Publish new version" }).click();
    await page.getByText("Published version 2.").waitFor();
    await page.getByRole("button", { name: /^v2/ }).waitFor();
    // Version history: v1 → v2 as a diff.
    await page.getByRole("button", { name: "Compare" }).click();
    const changes = page.getByRole("region", { name: "Changes between versions" });
    await changes.getByRole("heading", { name: "Changes v1 → v2" }).waitFor();
    expect(await changes.locator(".del").allTextContents()).toContainEqual(
      expect.stringContaining("concurrency: 2"),
    );
    expect(await changes.locator(".add").allTextContents()).toContainEqual(
      expect.stringContaining("concurrency: 3"),
    );
    await expectAccessible("automation editor");
    await screenshot(page, "automation");
    await page.goto(`${site.url}/automation/`);
    await page.getByRole("link", { name: "automation.hello" }).waitFor();
    await expectAccessible("automation");
  });

  it("dry-runs the triage plan with chosen steps stubbed and shows it as a graph", async () => {
    await page.goto(`${site.url}/automation/?id=alerts.triage`);
    await page.getByText("✓ Valid plan").waitFor();
    const input = {
      alert: {
        title: "Dry run",
        observables: [
          { type: "ip", value: "203.0.113.7" },
          { type: "domain", value: "example.com" },
        ],
      },
    };
    await page.getByLabel("Input (JSON)").fill(JSON.stringify(input));
    // A stub that is not JSON is refused before anything is sent.
    await page.getByLabel("Stub output for assess").fill("{verdict");
    await page.getByRole("button", { name: "Dry run" }).click();
    await page.getByText(/The stub output for assess must be JSON/).waitFor();
    await page
      .getByLabel("Stub output for assess")
      .fill(JSON.stringify({ verdict: "benign", confidence: 0.9, reason: "stubbed" }));
    // lookup_ip runs without a stub: the dry run refuses to call the real tool, so that step fails.
    await page.locator('[data-stub="lookup_ip"] input[type="checkbox"]').uncheck();
    await page.getByRole("button", { name: "Dry run" }).click();
    const result = page.getByRole("region", { name: "Dry run result" });
    await result.locator("[data-run-status]").waitFor();
    expect(await result.getByText(/^Stubbed: /).textContent()).toContain("assess");
    await result.getByRole("button", { name: "Graph", exact: true }).click();
    await result.locator('.node.failed > button[data-node="lookup_ip"]').waitFor();
    await result.locator('.node.succeeded > button[data-node="lookup_domain"]').waitFor();
    await result.locator('.node.succeeded > button[data-node="close_benign"]').waitFor();
    await expectAccessible("automation dry run graph");
    await screenshot(page, "automation-dry-run");
  });

  it("shows an alert posted through a source webhook; a note; the triage timeline survives a lost event stream; approving finishes the run and resolves the alert; chat about it with a streamed reply", async () => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${site.url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${site.adminKey}`,
          "content-type": "application/json",
          ...init.headers,
        },
      });
    const created = await api("/v1/alert-sources", {
      method: "POST",
      body: JSON.stringify({ id: "e2e", format: "generic", auth: { mode: "api_key" } }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    const sample = await readFile(join(SHIPPED_PLANS, "../examples/alerts/generic.json"), "utf8");
    const posted = await fetch(`${site.url}/v1/webhooks/e2e`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": secret },
      body: sample,
    });
    expect(posted.status).toBe(202);
    const title = (JSON.parse(sample) as { title?: string }).title;

    await page.goto(`${site.url}/alerts/`);
    const link = page.locator("table a").first();
    await link.waitFor();
    if (title) expect(await link.textContent()).toContain(title);
    await page.getByText(/updated \d+ s ago/i).waitFor();
    const row = page.locator("tbody tr", { hasText: title ?? "" });
    expect((await row.locator("td").nth(4).textContent())?.trim()).toBe("1");
    await page.locator("[data-updated]", { hasText: "Live" }).waitFor();
    const again = await fetch(`${site.url}/v1/webhooks/e2e`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": secret },
      body: sample,
    });
    expect(again.status).toBe(202);
    // The same alert again is a duplicate: its count goes up on the open page, pushed by the alert
    // event stream (no reload, no focus change).
    await expect
      .poll(async () => (await row.locator("td").nth(4).textContent())?.trim(), { timeout: 10_000 })
      .toBe("2");
    await expectAccessible("alerts");
    await screenshot(page, "alerts");
    await page
      .getByRole("link", { name: title ?? /./ })
      .first()
      .click();
    await page.waitForURL(/\/alerts\/\?id=/);
    await page.getByRole("heading", { name: "Observables" }).waitFor();
    await page.locator("[data-run-status]").first().waitFor();
    await page.getByLabel("Add a note").fill("Checked the source address.");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.getByText("Checked the source address.").waitFor();
    await expectAccessible("alert detail");
    await screenshot(page, "alert");

    // The live view loses its event stream once: it says so, reconnects, and follows the run again.
    // Cut it only once the run waits for the approval, so no event can replace the notice at once.
    await page.locator('[data-run-status="waiting"]').waitFor();
    // While the run waits, the observables carry their verdicts and the status has followed the run,
    // without a reload.
    await page
      .getByRole("row", { name: /malware\.example\.com\/payload\.exe/ })
      .locator(".badge.verdict-malicious")
      .waitFor();
    await page.locator(".page-head .badge.awaiting_approval").waitFor();
    let cut = false;
    await page.route("**/v1/runs/*/events*", async (route) => {
      if (cut) return route.continue();
      cut = true;
      return route.abort("connectionreset");
    });
    await page.reload();
    await page.getByText(/Connection lost; reconnecting \(attempt 1\)/).waitFor();

    // The graph view: the plan's structure (map body with its branch, the approval), driven by keyboard.
    await page.getByRole("button", { name: "Graph", exact: true }).click();
    const gate = page.locator('button[data-node="approve_containment"]');
    await gate.waitFor();
    await page.locator('.node.waiting_approval > button[data-node="approve_containment"]').waitFor();
    expect(await page.locator('[data-flow="enrich#0"] button[data-node="lookup_ip"]').count()).toBe(1);
    await page.locator('button[data-node="enrich"]').focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate("document.activeElement?.dataset.node")).toBe("pick_lookup");
    await gate.focus();
    await page.keyboard.press("Enter");
    expect(await gate.getAttribute("aria-pressed")).toBe("true");
    await expectAccessible("run graph");
    await screenshot(page, "run-graph");
    const approve = page.getByRole("button", { name: "Approve", exact: true });
    await approve.waitFor();
    await page.getByLabel("Rationale for approve_containment").fill("Confirmed with the user.");
    await approve.click();
    await page.getByText("Approved approve_containment.").waitFor();
    await page.getByText("Reconnected to the run's live events.").waitFor();
    await page.locator('[data-run-status="succeeded"]').waitFor();
    await page.locator('.node.approved > button[data-node="approve_containment"]').waitFor();
    await page.reload();
    await page.locator(".page-head .badge.resolved").waitFor();

    // Chat about the alert: the reply streams in; the session is kept and shown again on the next visit.
    const chat = page.getByRole("region", { name: "Chat about this alert" });
    await chat.getByRole("button", { name: "Send" }).click();
    await chat.getByText("Write a message first.").waitFor();
    await chat.getByLabel("Message").fill("Why was this alert resolved?");
    await chat.getByRole("button", { name: "Send" }).click();
    const answer = chat.locator("article.assistant .md");
    await expect.poll(async () => (await answer.last().textContent())?.trim().length ?? 0).toBeGreaterThan(0);
    await chat.getByRole("button", { name: "Send" }).waitFor();
    await expectAccessible("alert chat");
    await screenshot(page, "alert-chat");
    await page.reload();
    await chat.getByText("Why was this alert resolved?").waitFor();
  });

  it("opens the Coding page with the add-repository form when there is none (coding.e2e.test.ts drives the rest)", async () => {
    await page.goto(`${site.url}/coding/`);
    await page.getByRole("heading", { name: "Coding", exact: true }).waitFor();
    await page.getByRole("form", { name: "Add a repository" }).waitFor();
    await expectAccessible("coding");
  });

  it("is usable at 375 px wide and in the dark theme", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${site.url}/runs/`);
    await page.getByRole("heading", { name: "Runs", exact: true }).waitFor();
    const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    expect(await page.evaluate("document.documentElement.dataset.theme")).toBe("dark");
    await expectAccessible("runs, dark, 375 px");
    await screenshot(page, "runs-mobile-dark");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it("never threw in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
