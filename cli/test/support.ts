import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestRuntime as startRuntime, type TestRuntime } from "@aat/functions-node/testing";
import { inject } from "vitest";

export type { TestRuntime };

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO_ROOT, "cli/bin/aat.js");
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

/**
 * How the tests start `aat`: the bundle cli/test/global-setup.ts built for this run (plain node, fast
 * start), or the shipped entry point (tsx loads the sources) under a config without that setup.
 */
export const AAT_COMMAND: readonly string[] = [process.execPath, inject("aatCliBundle") ?? BIN];

/** The real Node runtime in this process (see @aat/functions-node/testing). */
export function startTestRuntime(plans: string[]): Promise<TestRuntime> {
  return startRuntime({ plans, prefix: "aat-cli-test-" });
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
  const [command, ...prefix] = AAT_COMMAND as [string, ...string[]];
  return runProcess(command, [...prefix, ...args], env);
}

/** The `aat` binary inside a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
export function aatInTerminal(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const quoted = [...AAT_COMMAND, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  return runProcess("script", ["-qefc", quoted, "/dev/null"], { TERM: "xterm-256color", ...env });
}
