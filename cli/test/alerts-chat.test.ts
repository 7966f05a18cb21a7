import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aat, REPO_ROOT, startTestRuntime, type TestRuntime } from "./support.js";

const FORMATS = ["generic", "alertmanager", "guardduty", "elastic", "splunk", "wazuh", "falco", "suricata"];

let runtime: TestRuntime;
let env: Record<string, string>;

beforeAll(async () => {
  // The shipped alert plans (triage per new alert) and the chat plan, as `aat serve` loads them.
  runtime = await startTestRuntime([join(REPO_ROOT, "plans/alerts"), join(REPO_ROOT, "plans/chat")]);
  env = { AAT_URL: runtime.url, AAT_API_KEY: runtime.adminKey, AAT_CONFIG_DIR: "/nonexistent-aat-config" };
});
afterAll(async () => {
  await runtime?.stop();
});

// Every test runs the real binary (tsx loads it) several times; a busy machine makes that slow.
const SLOW = { timeout: 240_000 };

describe.concurrent("aat alerts send --sample, for every sample format", SLOW, () => {
  for (const format of FORMATS) {
    it(`${format}: creates an hmac source and sends the signed sample`, async () => {
      const id = `cli-${format}`;
      const created = await aat(["sources", "create", "--id", id, "--format", format, "--json"], env);
      expect(created.code, created.stderr).toBe(0);
      const { secret, source } = JSON.parse(created.stdout);
      expect(source).toMatchObject({ id, format, auth: { mode: "hmac" } });

      const sent = await aat(
        ["alerts", "send", "--source", id, "--secret", secret, "--sample", format, "--json"],
        env,
      );
      expect(sent.code, sent.stderr).toBe(0);
      const delivery = JSON.parse(sent.stdout);
      expect(delivery.source).toBe(id);
      expect(delivery.accepted).toBeGreaterThan(0);
      expect(delivery.alerts[0].duplicate).toBe(false);
    });
  }
});

describe("aat sources and alerts: rotation, refusal, resolve", SLOW, () => {
  it("a wrong secret is refused with exit 1; after rotate the new secret works, and resolve closes the alert", async () => {
    const created = await aat(
      ["sources", "create", "--id", "cli-rotate", "--format", "generic", "--json"],
      env,
    );
    expect(created.code, created.stderr).toBe(0);

    const wrong = await aat(
      [
        "alerts",
        "send",
        "--source",
        "cli-rotate",
        "--secret",
        "not-the-secret-0123456789",
        "--sample",
        "generic",
      ],
      env,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^aat: 401 /);

    const rotated = await aat(["sources", "rotate", "cli-rotate"], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const secret = rotated.stdout.trim();
    expect(secret.length).toBeGreaterThanOrEqual(16);

    const listed = await aat(["sources", "list"], env);
    expect(listed.stdout).toMatch(/cli-rotate\s+generic\s+hmac\s+enabled\s+2/);

    const sent = await aat(
      ["alerts", "send", "--source", "cli-rotate", "--secret", secret, "--sample", "generic"],
      env,
    );
    expect(sent.code, sent.stderr).toBe(0);
    const alertId = /^new\s+(\S+)/m.exec(sent.stdout)?.[1];
    expect(alertId).toBeDefined();

    const again = await aat(
      ["alerts", "send", "--source", "cli-rotate", "--secret", secret, "--sample", "generic"],
      env,
    );
    expect(again.stdout).toMatch(new RegExp(`^duplicate ${alertId}`, "m"));

    const alerts = await aat(["alerts", "list", "--source", "cli-rotate", "--json"], env);
    expect(JSON.parse(alerts.stdout).map((a: { id: string }) => a.id)).toEqual([alertId]);
    const text = await aat(["alerts", "show", alertId!], env);
    expect(text.stdout).toContain(`id        ${alertId}`);
    expect(text.stdout).toContain("source    cli-rotate (generic)");

    const resolved = await aat(
      ["alerts", "resolve", alertId!, "--kind", "false_positive", "-m", "cli test", "--json"],
      env,
    );
    expect(resolved.code, resolved.stderr).toBe(0);
    const shown = await aat(["alerts", "show", alertId!, "--json"], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      status: "resolved",
      resolution: { kind: "false_positive", comment: "cli test" },
    });
  });

  it("usage errors exit 2 with what to do", async () => {
    const both = await aat(
      ["alerts", "send", "--source", "x", "--secret", "s", "--sample", "generic", "file.json"],
      env,
    );
    expect(both).toMatchObject({
      code: 2,
      stderr: "aat: give a FILE with --format F, or --sample F (not both)\n",
    });
    const format = await aat(["sources", "create", "--id", "x", "--format", "nope"], env);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format nope: use one of generic,");
  });
});

describe("aat chat -m (one-shot, offline model)", SLOW, () => {
  it("streams the reply to stdout", async () => {
    const result = await aat(["chat", "-m", "hello, who are you?"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.toLowerCase()).toContain("offline");
  });

  it("--json prints the final message with the session", async () => {
    const result = await aat(["chat", "-m", "hello again", "--json"], env);
    expect(result.code, result.stderr).toBe(0);
    const reply = JSON.parse(result.stdout);
    expect(reply.sessionId).toEqual(expect.any(String));
    expect(reply.status).toBe("succeeded");
    expect(reply.text.toLowerCase()).toContain("offline");
  });
});
