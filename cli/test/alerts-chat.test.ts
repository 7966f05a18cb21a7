import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_FORMATS } from "../src/commands/sources.js";
import { aat, REPO_ROOT, startTestRuntime, type TestRuntime } from "./support.js";

/** Every shipped sample: `<format>.json` (what --sample sends) and variants `<format>-<what>.json`. */
const SAMPLES = readdirSync(join(REPO_ROOT, "examples/alerts"))
  .filter((file) => file.endsWith(".json"))
  .sort();

let runtime: TestRuntime;
let configDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  // The shipped alert plans (triage per new alert) and the chat plan, as `aat serve` loads them.
  runtime = await startTestRuntime([join(REPO_ROOT, "plans/alerts"), join(REPO_ROOT, "plans/chat")]);
  // `aat sources create` saves each secret in the profile: a config dir of this file's own.
  configDir = await mkdtemp(join(tmpdir(), "aat-cli-alerts-config-"));
  env = { AAT_URL: runtime.url, AAT_API_KEY: runtime.adminKey, AAT_CONFIG_DIR: configDir };
});
afterAll(async () => {
  await runtime?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

// Every test runs the real binary several times; a busy machine makes that slow.
const SLOW = { timeout: 240_000 };

describe.concurrent("aat alerts send, for every shipped sample", SLOW, () => {
  it("every format has a sample for --sample", () => {
    expect(ALERT_FORMATS.filter((format) => !SAMPLES.includes(`${format}.json`))).toEqual([]);
  });

  for (const file of SAMPLES) {
    const name = file.replace(/\.json$/, "");
    const format = name.split("-")[0]!;
    const how = name === format ? `--sample ${format}` : `--format ${format} ${file}`;
    it(`${name}: creates an hmac source and sends the signed sample (${how})`, async () => {
      const id = `cli-${name}`;
      const created = await aat(["sources", "create", "--id", id, "--format", format, "--json"], env);
      expect(created.code, created.stderr).toBe(0);
      const { secret, source } = JSON.parse(created.stdout);
      expect(source).toMatchObject({ id, format, auth: { mode: "hmac" } });

      const payload =
        name === format ? ["--sample", format] : ["--format", format, `examples/alerts/${file}`];
      const sent = await aat(
        ["alerts", "send", "--source", id, "--secret", secret, ...payload, "--json"],
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

describe("source secrets saved in the profile", SLOW, () => {
  it("sources create saves the secret (0600, no lost update among concurrent commands); alerts send signs with it; rotate replaces it; --no-save does not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aat-cli-secrets-"));
    const own = { ...env, AAT_CONFIG_DIR: dir };
    try {
      const ids = ["cli-saved-1", "cli-saved-2", "cli-saved-3", "cli-saved-4"];
      const created = await Promise.all(
        ids.map((id) => aat(["sources", "create", "--id", id, "--format", "falco"], own)),
      );
      const file = join(dir, "profiles.json");
      for (const [i, result] of created.entries()) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toBe(
          `source ${ids[i]} (falco, hmac): secret saved in profile default (${file}); send with \`aat alerts send --source ${ids[i]} --sample falco\`\n`,
        );
      }
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      // No profile existed: one is made for the URL in use (the key stays in the environment).
      expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
        current: "default",
        profiles: {
          default: {
            url: runtime.url,
            sourceSecrets: Object.fromEntries(ids.map((id, i) => [id, created[i]!.stdout.trim()])),
          },
        },
      });

      const sent = await aat(
        ["alerts", "send", "--source", "cli-saved-1", "--sample", "falco", "--json"],
        own,
      );
      expect(sent.code, sent.stderr).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({ source: "cli-saved-1", accepted: 1 });

      // Rotation without the previous secret: only the saved new one can sign now.
      const rotated = await aat(["sources", "rotate", "cli-saved-1", "--no-keep-previous", "--json"], own);
      expect(rotated.code, rotated.stderr).toBe(0);
      const { secret, savedIn } = JSON.parse(rotated.stdout);
      expect(savedIn).toEqual({ profile: "default", path: file });
      const profiles = JSON.parse(await readFile(file, "utf8"));
      expect(profiles.profiles.default.sourceSecrets["cli-saved-1"]).toBe(secret);
      expect(profiles.profiles.default.sourceSecrets["cli-saved-2"]).toBe(created[1]!.stdout.trim());
      const old = await aat(
        [
          "alerts",
          "send",
          "--source",
          "cli-saved-1",
          "--secret",
          created[0]!.stdout.trim(),
          "--sample",
          "falco",
        ],
        own,
      );
      expect(old.code).toBe(1);
      expect(old.stderr).toMatch(/^aat: 401 /);
      const again = await aat(["alerts", "send", "--source", "cli-saved-1", "--sample", "falco"], own);
      expect(again.code, again.stderr).toBe(0);

      const unsaved = await aat(
        ["sources", "create", "--id", "cli-unsaved", "--format", "generic", "--no-save"],
        own,
      );
      expect(unsaved.code, unsaved.stderr).toBe(0);
      expect(unsaved.stderr).toContain("the secret is shown only this once");
      const refused = await aat(["alerts", "send", "--source", "cli-unsaved", "--sample", "generic"], own);
      expect(refused).toMatchObject({
        code: 2,
        stderr:
          "aat: no secret for source cli-unsaved: pass --secret, set AAT_SOURCE_SECRET, or create/rotate the source with this profile (`aat sources rotate cli-unsaved` saves the new secret)\n",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
