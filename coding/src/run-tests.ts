import { spawn } from "node:child_process";
import type { Tool } from "@aat/core";
import { z } from "zod";
import type { CodingService } from "./service.js";

export interface RunTestsOptions {
  /** The command as an argument vector (no shell), e.g. `["npm", "test", "--", "--reporter=dot"]`. */
  command: readonly string[];
  /** Kill the command (SIGKILL to its process group) after this many milliseconds (default 5 minutes). */
  timeoutMs?: number;
  /** Keep only the last this many characters of stdout and stderr each (default 20,000). */
  maxOutputChars?: number;
  /** Ask a person before each run (default true): the command runs the repository's own code. */
  requireApproval?: boolean;
  /** Environment for the command; default only PATH, HOME and LANG of this process, no secrets. */
  env?: Record<string, string>;
}

const output = z.object({
  command: z.array(z.string()),
  exitCode: z.int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  durationMs: z.int(),
  stdout: z.string(),
  stderr: z.string(),
});

/**
 * `code.run_tests`: runs the one configured command in the repository's directory. There is no tool
 * unless an operator configures the command; the model cannot choose what runs, only when.
 */
export function runTestsTool(
  service: CodingService,
  options: RunTestsOptions,
): Tool<{ repo: string }, z.output<typeof output>> {
  if (options.command.length === 0) throw new Error("code.run_tests: command must name a program");
  const timeoutMs = options.timeoutMs ?? 300_000;
  const max = options.maxOutputChars ?? 20_000;
  const env =
    options.env ??
    Object.fromEntries(
      ["PATH", "HOME", "LANG"].flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])),
    );
  const tail = (chunks: Buffer[]) => {
    const text = Buffer.concat(chunks).toString("utf8");
    return text.length > max ? `…${text.slice(-max)}` : text;
  };
  return {
    name: "code.run_tests",
    description: `Run the configured test command (${options.command.join(" ")}) in the repository's working tree and return its exit code and the end of its output.`,
    input: z.object({ repo: z.string().min(1) }),
    output,
    capabilities: ["repo.exec"],
    dangerous: options.requireApproval ?? true,
    // The tool enforces its own limit (and kills the process group); the call's limit is a backstop.
    timeoutMs: timeoutMs + 10_000,
    async run({ repo }, ctx) {
      const workspace = await service.workspace(repo);
      const [program, ...args] = options.command;
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn(program!, args, {
          cwd: workspace.dir,
          env,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const kill = () => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        };
        const timer = setTimeout(() => {
          timedOut = true;
          kill();
        }, timeoutMs);
        const abort = () => kill();
        ctx.signal.addEventListener("abort", abort, { once: true });
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        child.on("error", (error) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener("abort", abort);
          reject(new Error(`code.run_tests could not start ${program}: ${error.message}`));
        });
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          ctx.signal.removeEventListener("abort", abort);
          resolve({
            command: [...options.command],
            exitCode: code,
            signal,
            timedOut,
            durationMs: Date.now() - started,
            stdout: tail(out),
            stderr: tail(err),
          });
        });
      });
    },
  };
}
