import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type AatConfig, aatConfigSchema } from "@aat/core";
import { pino } from "pino";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SHIPPED_PLANS = join(REPO_ROOT, "plans");

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `aat-${prefix}-`));
}

/** Configuration as a test wants it: an ephemeral port, a temp data dir, the given plan folders. */
export function testConfig(overrides: {
  dataDir: string;
  plans?: string[];
  auth?: Record<string, unknown>;
  server?: Record<string, unknown>;
}): AatConfig {
  return aatConfigSchema.parse({
    dataDir: overrides.dataDir,
    server: { port: 0, ...overrides.server },
    plans: { directories: overrides.plans ?? [SHIPPED_PLANS], watch: false },
    telemetry: { logLevel: "debug" },
    ...(overrides.auth ? { auth: overrides.auth } : {}),
  });
}

/** A pino logger whose JSON lines are kept in memory. */
export function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

/** Polls `probe` until it returns a value (not undefined); gives up after `attempts` tries. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  { attempts = 400, intervalMs = 50 } = {},
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

export interface ChildRuntime {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ChildProcessHandle {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `script` (TypeScript) in a child Node process and waits until its output matches `ready`
 * (resolving to the first capture group). tsx is loaded as an import hook rather than through its CLI,
 * which would put a wrapper process in between: a signal sent to the child must reach the runtime
 * itself (SIGKILL is not relayed).
 */
export async function spawnProcess(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  { attempts = 600 } = {},
): Promise<ChildProcessHandle & { ready: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const matched = await Promise.race([
    eventually(async () => ready.exec(output)?.[1], `the process to print ${ready}`, { attempts }),
    exited.then(({ code, signal }) => {
      throw new Error(`process exited early (code ${code}, signal ${signal}):\n${output}`);
    }),
  ]);
  return { child, output: () => output, exited, ready: matched };
}

/** Runs a runtime script (see spawnProcess) and waits until it prints the URL it listens on. */
export async function spawnRuntime(script: string, env: Record<string, string>): Promise<ChildRuntime> {
  const { ready, ...handle } = await spawnProcess(script, env, /is listening on (http:\/\/\S+?);/);
  return { ...handle, url: ready };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
