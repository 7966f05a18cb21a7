import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO_ROOT, "cli/bin/aat.js");
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

export interface TestRuntime {
  url: string;
  adminKey: string;
  stop(): Promise<void>;
}

/** The real Node runtime in this process: SQLite under a temp dir, an ephemeral loopback port. */
export async function startTestRuntime(plans: string[]): Promise<TestRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), "aat-cli-test-"));
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { host: "127.0.0.1", port: 0 },
      plans: { directories: plans, watch: false },
      telemetry: { logLevel: "silent" },
    }),
    print: () => {},
    siteDir: join(dataDir, "no-site"),
  });
  const adminKey = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  if (!adminKey || !runtime.url) throw new Error("the runtime did not start with a fresh admin key");
  return {
    url: runtime.url,
    adminKey,
    async stop() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (the real `aat` binary, or `script` around it) as a child process from the repo root. */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The `aat` binary with plain (non-terminal) output. */
export function aat(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], env);
}

/** The `aat` binary inside a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
export function aatInTerminal(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const quoted = [process.execPath, BIN, ...args]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(" ");
  return runProcess("script", ["-qefc", quoted, "/dev/null"], { TERM: "xterm-256color", ...env });
}
