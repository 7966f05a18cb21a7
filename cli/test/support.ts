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
export function startTestRuntime(plans: string[], config?: Record<string, unknown>): Promise<TestRuntime> {
  return startRuntime({ plans, prefix: "aat-cli-test-", ...(config ? { config } : {}) });
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

/** A command running in a pseudo-terminal that a test types into, as a person would. */
export interface TerminalSession {
  /** Everything the terminal showed so far (echoed input included). */
  screen(): string;
  /** Sends keys: text, "\r" for Enter, "\u0003" for Ctrl-C, "\u0004" for Ctrl-D. */
  type(keys: string): void;
  /** Resolves once the screen, from `from` on, matches; rejects when the command ends first. */
  waitFor(pattern: string | RegExp, from?: number): Promise<number>;
  exited: Promise<CliResult>;
}

/**
 * `aat` inside a pseudo-terminal (util-linux `script`; keys written to its input reach the command
 * through the terminal's line discipline, so Ctrl-C and Ctrl-D mean what they mean at a terminal).
 */
export function aatInteractive(
  args: string[],
  env: Record<string, string | undefined> = {},
): TerminalSession {
  const quoted = [...AAT_COMMAND, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qefc", quoted, "/dev/null"], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: "xterm-256color", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let stderr = "";
  let ended = false;
  const listeners = new Set<() => void>();
  child.stdout.on("data", (chunk) => {
    screen += String(chunk);
    for (const listener of listeners) listener();
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      ended = true;
      resolve({ code, stdout: screen, stderr });
      for (const listener of listeners) listener();
    });
  });
  return {
    screen: () => screen,
    type(keys) {
      child.stdin.write(keys);
    },
    waitFor(pattern, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const rest = screen.slice(from);
          const match = typeof pattern === "string" ? rest.indexOf(pattern) : rest.search(pattern);
          if (match >= 0) {
            listeners.delete(check);
            const length =
              typeof pattern === "string" ? pattern.length : (pattern.exec(rest)?.[0].length ?? 0);
            resolve(from + match + length);
          } else if (ended) {
            listeners.delete(check);
            reject(
              new Error(`the command ended before the screen showed ${String(pattern)}:\n${rest}${stderr}`),
            );
          }
        };
        listeners.add(check);
        check();
      });
    },
    exited,
  };
}
