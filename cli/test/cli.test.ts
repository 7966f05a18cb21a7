import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aat,
  aatInTerminal,
  FIXTURES,
  REPO_ROOT,
  runProcess,
  startTestRuntime,
  type TestRuntime,
} from "./support.js";

let runtime: TestRuntime;
let configDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  runtime = await startTestRuntime([join(FIXTURES, "plans"), join(REPO_ROOT, "plans/automation")]);
  configDir = await mkdtemp(join(tmpdir(), "aat-cli-config-"));
  // The commands below find the API through the profile `aat login` saves; AAT_URL/AAT_API_KEY stay
  // unset. Saved before the tests start: they run concurrently, so none may be first.
  env = { AAT_CONFIG_DIR: configDir, AAT_URL: undefined, AAT_API_KEY: undefined } as unknown as Record<
    string,
    string
  >;
  const login = await aat(["login", "--url", runtime.url, "--key", runtime.adminKey], env);
  if (login.code !== 0) throw new Error(`aat login failed: ${login.stderr}`);
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

const ESC = "\u001b[";

// Every test runs the real binary several times; a busy machine makes that slow.
const SLOW = { timeout: 240_000 };

describe.concurrent("aat plans validate (offline)", SLOW, () => {
  it("prints ok lines and the count for good plans, exit 0", async () => {
    const result = await aat(["plans", "validate", "cli/test/fixtures/plans"]);
    expect(result).toEqual({
      code: 0,
      stdout: [
        "ok   cli/test/fixtures/plans/approve.yaml (cli.approve v1)",
        "ok   cli/test/fixtures/plans/fail.yaml (cli.fail v1)",
        "ok   cli/test/fixtures/plans/wait.yaml (cli.wait v1)",
        "3 plan file(s) checked, 0 with errors",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("prints every error as file:line:col path: reason, exit 1, exactly as npm run plans:validate", async () => {
    const result = await aat(["plans", "validate", "cli/test/fixtures/broken"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      "ok   cli/test/fixtures/broken/good.yaml (cli.wait v1)\n2 plan file(s) checked, 1 with errors\n",
    );
    expect(result.stderr).toBe(
      [
        'cli/test/fixtures/broken/broken.yaml:7:18 steps[0].values.x: expression "input.a +" does not parse: Unexpected end of expression',
        'cli/test/fixtures/broken/broken.yaml:8:11 steps[0].next: unknown step "nowhere"; use the id of a step in the same list',
        'cli/test/fixtures/broken/broken.yaml:10:11 steps[1].type: unknown step type "sett" (did you mean "set"?); expected one of tool, agent, branch, parallel, map, approval, wait, set, plan',
        "",
      ].join("\n"),
    );
    const script = await runProcess(
      process.execPath,
      ["--import", "tsx", "scripts/validate-plans.ts", "cli/test/fixtures/broken"],
      {},
    );
    expect(script).toEqual(result);
  });

  it("--json lists each file with its errors", async () => {
    const result = await aat(["plans", "validate", "cli/test/fixtures/broken/broken.yaml", "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ checked: 1, failed: 1, files: [{ ok: false }] });
    expect(report.files[0].errors.map((e: { path: string; line: number }) => `${e.line} ${e.path}`)).toEqual([
      "7 steps[0].values.x",
      "8 steps[0].next",
      "10 steps[1].type",
    ]);
  });
});

describe.concurrent("aat against the node runtime", SLOW, () => {
  it("login stores a 0600 profile that later commands use", async () => {
    const ownDir = await mkdtemp(join(tmpdir(), "aat-cli-login-"));
    const profileEnv = { AAT_CONFIG_DIR: ownDir, AAT_URL: undefined, AAT_API_KEY: undefined };
    const result = await aat(["login", "--url", runtime.url, "--key", runtime.adminKey], profileEnv);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const file = join(ownDir, "profiles.json");
    expect(result.stdout).toBe(`Saved profile default for ${runtime.url} in ${file}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
      current: "default",
      profiles: { default: { url: runtime.url, key: runtime.adminKey } },
    });

    const plans = await aat(["plans", "list", "--json"], profileEnv);
    expect(plans.code).toBe(0);
    expect(JSON.parse(plans.stdout).map((p: { id: string }) => p.id)).toEqual(
      expect.arrayContaining(["cli.wait", "cli.approve", "automation.hello"]),
    );

    // A wrong key in the environment overrides the profile: one line saying what to do, exit 1.
    const refused = await aat(["plans", "list"], { ...profileEnv, AAT_API_KEY: "aat_wrong" });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr.trimEnd()).toMatch(
      /^aat: 401 .*; log in again with `aat login --url URL --key KEY` or set AAT_API_KEY$/,
    );
    await rm(ownDir, { recursive: true, force: true });
  });

  it("usage errors exit 2 and network errors name the URL", async () => {
    const missing = await aat(["run"], env);
    expect(missing).toMatchObject({ code: 2, stdout: "" });
    expect(missing.stderr).toBe("aat: name a plan (aat run PLAN) or a workflow (--workflow W)\n");

    const unknown = await aat(["plans", "frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("aat: unknown command 'frobnicate'");

    const badJson = await aat(["run", "cli.wait", "--input", "{nope"], env);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^aat: --input is not JSON/);

    const port = await closedPort();
    const down = await aat(["plans", "list", "--url", `http://127.0.0.1:${port}`], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      `aat: GET http://127.0.0.1:${port}/v1/plans failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port}); is the server running at that address?\n`,
    );
  });

  it("publish: new plan, dry run of a change, the change, unchanged; diff and show", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aat-cli-publish-"));
    const file = join(dir, "publish.yaml");
    const text = (title: string) =>
      `id: cli.published\nworkflow: automation\ntitle: ${title}\nsteps:\n  - id: only\n    type: set\n    values: { ok: true }\n`;
    try {
      await writeFile(file, text("First title"));
      const first = await aat(["plans", "publish", file], env);
      expect(first.stderr).toBe("");
      expect(first.stdout.split("\n")[0]).toBe(
        `published cli.published v1 (new plan, +7 -0 lines) from ${file}`,
      );
      expect(first.stdout).toContain("1 of 1 plan(s) published");

      await writeFile(file, text("Second title"));
      const dry = await aat(["plans", "publish", file, "--dry-run"], env);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would publish cli.published v1 → v2 (+1 -1 lines) from ${file}`);
      expect(dry.stdout).toContain("    -title: First title");
      expect(dry.stdout).toContain("    +title: Second title");
      expect(dry.stdout).toContain("dry run: 1 of 1 plan(s) would change; nothing was published");

      const second = await aat(["plans", "publish", file, "--json"], env);
      expect(JSON.parse(second.stdout)).toMatchObject({
        dryRun: false,
        plans: [{ id: "cli.published", status: "published", from: 1, to: 2, added: 1, removed: 1 }],
      });

      const again = await aat(["plans", "publish", file], env);
      expect(again.stdout).toContain("unchanged cli.published v2");

      const diff = await aat(["plans", "diff", "cli.published"], env);
      expect(diff.code).toBe(0);
      expect(diff.stdout).toContain("--- cli.published v1");
      expect(diff.stdout).toContain("+++ cli.published v2");
      expect(diff.stdout).toContain("-title: First title");
      expect(diff.stdout).toContain("+title: Second title");

      const show = await aat(["plans", "show", "cli.published", "--plan-version", "1"], env);
      expect(show.stdout).toContain("cli.published v2 (automation): Second title");
      expect(show.stdout).toContain("title: First title");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("run follows a run in plain lines when not a terminal, prints the output, exit 0", async () => {
    const result = await aat(["run", "cli.wait", "--input", '{"name":"Ada"}'], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(ESC);
    const lines = result.stdout.split("\n");
    const runId = /^run (\S+): started \(cli\.wait v1\)$/.exec(lines[0] ?? "")?.[1];
    expect(runId).toBeDefined();
    expect(lines).toEqual(
      expect.arrayContaining([
        "step pause: waiting for a timer",
        "step pause: timer fired",
        "step greet: succeeded",
      ]),
    );
    expect(result.stdout).toMatch(new RegExp(`run ${runId}: succeeded in \\d`));
    expect(result.stdout.endsWith('{\n  "text": "Hello, Ada"\n}\n')).toBe(true);
  });

  it("run shows a live progress display in a terminal", async () => {
    const result = await aatInTerminal(["run", "cli.wait", "--input", '{"name":"Grace"}'], env);
    expect(result.code).toBe(0);
    const screen = result.stdout;
    expect(screen).toContain(ESC); // colours and cursor movement: the live display, not plain lines
    expect(screen).toMatch(/run \S+ · cli\.wait v1/);
    expect(screen).toMatch(/pause.*waiting.*waiting for a timer/); // the step while its timer runs
    expect(screen).toMatch(/✔.* pause .*succeeded/);
    expect(screen).toMatch(/✔.* greet .*succeeded/);
    expect(screen).toContain('"text": "Hello, Grace"');
    expect(screen).not.toContain("step pause: waiting"); // no plain lines in a terminal

    const plainInTerminal = await aatInTerminal(["run", "cli.wait", "--input", '{"name":"Lin"}'], {
      ...env,
      NO_COLOR: "1",
    });
    expect(plainInTerminal.code).toBe(0);
    expect(plainInTerminal.stdout).not.toMatch(new RegExp(`${ESC.replace("[", "\\[")}\\d+m`)); // NO_COLOR: no colour codes
  });

  it("a failed run exits 1 with the reason; --json prints the outcome", async () => {
    const result = await aat(["run", "cli.fail", "--json"], env);
    expect(result.code).toBe(1);
    const outcome = JSON.parse(result.stdout);
    expect(outcome).toMatchObject({ status: "failed", runId: expect.any(String) });
    expect(result.stderr).toMatch(/^aat: run \S+ failed: .*this plan fails on purpose.*aat runs show/);
  });

  it("runs: detach, list, approve, watch, show; cancel", async () => {
    const started = await aat(["run", "cli.approve", "--detach"], env);
    expect(started.code).toBe(0);
    const runId = started.stdout.trim();

    const list = await aat(["runs", "list", "--plan", "cli.approve", "--status", "waiting", "--json"], env);
    expect(JSON.parse(list.stdout).map((run: { runId: string }) => run.runId)).toContain(runId);

    const approved = await aat(["runs", "approve", runId, "confirm", "--rationale", "looks right"], env);
    expect(approved.stdout).toMatch(
      new RegExp(`^run ${runId}: step confirm approved; the run is (running|succeeded)\\n$`),
    );

    const watched = await aat(["runs", "watch", runId], env);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain(`run ${runId}: succeeded`);

    const shown = await aat(["runs", "show", runId, "--json"], env);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      runId,
      status: "succeeded",
      output: { approved: true },
    });

    const other = (await aat(["run", "cli.approve", "--detach"], env)).stdout.trim();
    const cancelled = await aat(["runs", "cancel", other, "--reason", "not needed"], env);
    expect(cancelled.stdout).toBe(`run ${other}: cancelled\n`);
    const twice = await aat(["runs", "cancel", other], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^aat: 409 Conflict/);
  });

  it("keys: create, list, revoke", async () => {
    const created = await aat(["keys", "create", "--name", "ci", "--role", "developer", "--json"], env);
    expect(created.code).toBe(0);
    const { id, key } = JSON.parse(created.stdout);
    expect(key).toMatch(/^aat_/);

    const listed = await aat(["keys", "list", "--json"], env);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id, name: "ci", roles: ["developer"], status: "active" }),
      ]),
    );
    const revoked = await aat(["keys", "revoke", id], env);
    expect(revoked.stdout).toBe(`revoked key ${id}\n`);

    const refused = await aat(["plans", "list", "--key", key], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^aat: 401/);

    const badRole = await aat(["keys", "create", "--name", "x", "--role", "wizard"], env);
    expect(badRole).toMatchObject({
      code: 2,
      stderr: "aat: unknown role wizard; use admin, responder, analyst, developer, viewer\n",
    });
  });
});

describe("the shipped entry point (cli/bin/aat.js, tsx loads the sources)", SLOW, () => {
  it("runs from `npx aat` and `npm run aat --`, as the README shows", async () => {
    const version = await runProcess("npx", ["aat", "--version"], {});
    expect(version).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });

    const validate = await runProcess(
      "npm",
      ["run", "--silent", "aat", "--", "plans", "validate", "cli/test/fixtures/broken/good.yaml"],
      {},
    );
    expect(validate).toEqual({
      code: 0,
      stdout:
        "ok   cli/test/fixtures/broken/good.yaml (cli.wait v1)\n1 plan file(s) checked, 0 with errors\n",
      stderr: "",
    });
  });
});

describe("aat completion", SLOW, () => {
  it("prints a bash script that bash accepts, naming the commands", async () => {
    const result = await aat(["completion", "bash"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("complete -o default -F _aat_complete aat");
    expect(result.stdout).toContain('"plans") words="validate list show diff publish');
    const check = await runProcess("bash", ["-n", "-c", result.stdout], {});
    expect(check).toMatchObject({ code: 0, stderr: "" });

    // What bash offers on Tab: the script loaded, its function called as `complete -F` calls it.
    const offered = await runProcess(
      "bash",
      [
        "-c",
        `${result.stdout}
offer() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _aat_complete; echo "\${COMPREPLY[*]}"; }
offer aat plans v; offer aat ru; offer aat runs list --st`,
      ],
      {},
    );
    expect(offered).toEqual({ code: 0, stdout: "validate\nrun runs\n--status\n", stderr: "" });
  });
});

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
