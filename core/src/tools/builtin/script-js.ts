import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";
import { FILE_NAME, runInSandbox, type SandboxLimits } from "./script/sandbox.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface ScriptOptions {
  /** Interpreter heap per run (default 32 MiB). */
  memoryBytes?: number;
  /** Upper bound (and default) of one run (default 1,000 ms); a call may ask for less. */
  timeoutMs?: number;
  /** Largest source accepted (default 256 KiB). */
  maxCodeBytes?: number;
  /** Largest input, as JSON (default 1 MiB). */
  maxInputBytes?: number;
  /** Largest result, as JSON (default 1 MiB). */
  maxOutputBytes?: number;
}

const MIB = 1024 * 1024;
// The interpreter's stack check must trip before the host's: each guest call nests several wasm frames.
const STACK_BYTES = 256 * 1024;

function inputSchema(limits: Required<ScriptOptions>) {
  return z.strictObject({
    code: z.string().check(
      z.minLength(1, "must be JavaScript: `function main(input) { … }` or an expression"),
      z.refine(
        (code) => Buffer.byteLength(code) <= limits.maxCodeBytes,
        `may be at most ${limits.maxCodeBytes} bytes`,
      ),
    ),
    input: z
      .optional(z.json())
      .check(
        z.refine(
          (value) => Buffer.byteLength(JSON.stringify(value ?? null)) <= limits.maxInputBytes,
          `may be at most ${limits.maxInputBytes} bytes as JSON`,
        ),
      ),
    timeoutMs: z.optional(
      z.int().check(z.positive(), z.maximum(limits.timeoutMs, `may be at most ${limits.timeoutMs}`)),
    ),
  });
}

type ScriptInput = z.output<ReturnType<typeof inputSchema>>;
type Json = z.core.util.JSONType;

/**
 * `script.js`: user JavaScript for deterministic steps (parse, reshape, score), run in a QuickJS
 * WebAssembly sandbox with memory and time limits and no I/O. JSON in, JSON out.
 */
export function scriptJsTool(options: ScriptOptions = {}): Tool<ScriptInput, Json> {
  const limits: Required<ScriptOptions> = {
    memoryBytes: options.memoryBytes ?? 32 * MIB,
    timeoutMs: options.timeoutMs ?? 1_000,
    maxCodeBytes: options.maxCodeBytes ?? 256 * 1024,
    maxInputBytes: options.maxInputBytes ?? MIB,
    maxOutputBytes: options.maxOutputBytes ?? MIB,
  };
  const input = onFirstUse(() => inputSchema(limits));
  const output = onFirstUse(() => z.json());
  return {
    name: "script.js",
    description:
      "Run JavaScript on JSON: `code` defines `function main(input) { return … }` (or is an expression using `input`); the JSON result is the output. No I/O, no timers, no modules; memory and time are limited.",
    // Schemas built on first use (../first-use.ts).
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    async run(input, ctx) {
      const sandbox: SandboxLimits = {
        memoryBytes: limits.memoryBytes,
        timeoutMs: input.timeoutMs ?? limits.timeoutMs,
        stackBytes: STACK_BYTES,
        maxOutputBytes: limits.maxOutputBytes,
      };
      const result = (await runInSandbox(input.code, input.input ?? null, sandbox, ctx.signal)) as Json;
      ctx.logger.debug({ file: FILE_NAME, codeBytes: Buffer.byteLength(input.code) }, "script.js done");
      return result;
    },
  };
}
