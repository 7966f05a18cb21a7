import type { CustomizeVariantOptions, QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { ToolError } from "../../errors.js";

export interface SandboxLimits {
  /** Heap of the interpreter (objects, strings, arrays). */
  memoryBytes: number;
  /** Wall time of one evaluation, checked by the interpreter's interrupt handler. */
  timeoutMs: number;
  /** Interpreter stack; kept well below what the host's own stack can take for the nested wasm frames. */
  stackBytes: number;
  /** Size of the JSON result. */
  maxOutputBytes: number;
}

export const FILE_NAME = "script.js";

/** The WebAssembly global: the ES2023 lib this project compiles against only declares its types. */
const wasmApi = (
  globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }
).WebAssembly;
let compiled: Promise<WebAssembly.Module> | undefined;

/** QuickJS's wasm, compiled once per process; every run instantiates it afresh (its own memory). */
function quickjsWasm(): Promise<WebAssembly.Module> {
  compiled ??= process
    .getBuiltinModule("node:fs/promises")
    // node:module on first use too (~0.4 ms of a serverless cold start otherwise).
    .readFile(
      process
        .getBuiltinModule("node:module")
        .createRequire(import.meta.url)
        .resolve("@jitl/quickjs-wasmfile-release-sync/wasm"),
    )
    .then((bytes) => wasmApi.compile(bytes));
  return compiled;
}

/** Emscripten passes these through to its module; the typings omit the output hooks. */
interface QuietModuleOptions extends NonNullable<CustomizeVariantOptions["emscriptenModule"]> {
  print(text: string): void;
  printErr(text: string): void;
}
// An interpreter torn down after a failure may print assertion text; it is not the user's output.
const quiet: QuietModuleOptions = { print: ignore, printErr: ignore };

/**
 * Runs user JavaScript in QuickJS compiled to WebAssembly. The guest has the language and its built-ins
 * (JSON, Math, Date, RegExp, …) and nothing else: no require, no process, no fetch, no timers, no
 * console. Each run gets a new wasm instance, so whatever a script does to its heap (or a failure that
 * leaves the interpreter unusable) is gone with it. `code` either defines `function main(input)`, whose
 * return value is the result, or is a script whose last expression is the result; `input` is also a
 * global. The result goes out as JSON.
 */
export async function runInSandbox(
  code: string,
  input: unknown,
  limits: SandboxLimits,
  signal: AbortSignal,
): Promise<unknown> {
  // Loaded on the first script run, not with the tool registry: a serverless cold start skips it.
  const [{ newQuickJSWASMModuleFromVariant, newVariant }, { default: releaseSync }] = await Promise.all([
    import("quickjs-emscripten-core"),
    import("@jitl/quickjs-wasmfile-release-sync"),
  ]);
  const quickjs = await newQuickJSWASMModuleFromVariant(
    newVariant(releaseSync, {
      wasmModule: await quickjsWasm(),
      emscriptenModule: quiet,
    }),
  );
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(limits.memoryBytes);
  runtime.setMaxStackSize(limits.stackBytes);
  const deadline = Date.now() + limits.timeoutMs;
  runtime.setInterruptHandler(() => signal.aborted || Date.now() > deadline);
  const vm = runtime.newContext();
  try {
    return evaluate(vm, code, input, limits);
  } catch (error) {
    throw asToolError(error, limits, signal);
  } finally {
    try {
      vm.dispose();
      runtime.dispose();
    } catch {
      // The instance is discarded either way; a leak inside it after a failed run is not ours to report.
    }
  }
}

function evaluate(vm: QuickJSContext, code: string, input: unknown, limits: SandboxLimits): unknown {
  // Taken before user code runs, so a script that replaces JSON cannot change how data crosses over.
  const json = vm.getProp(vm.global, "JSON");
  const parse = vm.getProp(json, "parse");
  const stringify = vm.getProp(json, "stringify");
  const inputText = vm.newString(JSON.stringify(input ?? null));
  const inputValue = unwrap(vm, vm.callFunction(parse, json, inputText));
  vm.setProp(vm.global, "input", inputValue);

  let result = unwrap(vm, vm.evalCode(code, FILE_NAME, { type: "global" }));
  const main = vm.getProp(vm.global, "main");
  if (vm.typeof(main) === "function") {
    result.dispose();
    result = unwrap(vm, vm.callFunction(main, vm.undefined, inputValue));
  }
  main.dispose();
  result = settle(vm, result);

  const text = unwrap(vm, vm.callFunction(stringify, json, result));
  if (vm.typeof(text) !== "string") return null; // undefined or a function: no JSON value
  const length = vm.getNumber(vm.getProp(text, "length"));
  if (length > limits.maxOutputBytes) {
    throw new ToolError(
      `${FILE_NAME} returned ${length} characters of JSON; the limit is ${limits.maxOutputBytes}`,
      {
        code: "script_output_too_large",
        retryable: false,
      },
    );
  }
  return JSON.parse(vm.getString(text));
}

/** An async `main` may await promises it makes itself; with no I/O they settle once pending jobs run. */
function settle(vm: QuickJSContext, value: QuickJSHandle): QuickJSHandle {
  const state = vm.getPromiseState(value);
  if (state.type === "fulfilled" && state.notAPromise) return value;
  vm.runtime.executePendingJobs().unwrap().valueOf();
  const settled = vm.getPromiseState(value);
  value.dispose();
  if (settled.type === "fulfilled") return settled.value;
  if (settled.type === "rejected") throw new GuestError(vm.dump(settled.error));
  throw new ToolError(
    `${FILE_NAME}: main returned a promise that never settles (there are no timers or I/O to wait for)`,
    { code: "script_error", retryable: false },
  );
}

function unwrap(vm: QuickJSContext, result: { error?: QuickJSHandle; value?: QuickJSHandle }): QuickJSHandle {
  if (result.error) {
    const dumped: unknown = vm.dump(result.error);
    result.error.dispose();
    throw new GuestError(dumped);
  }
  return result.value!;
}

/** Something the script threw (or the interpreter threw at it), as dumped from the guest. */
class GuestError extends Error {
  constructor(readonly thrown: unknown) {
    super("guest error");
  }
}

function asToolError(error: unknown, limits: SandboxLimits, signal: AbortSignal): ToolError {
  if (error instanceof ToolError) return error;
  if (error instanceof GuestError) return guestFailure(error.thrown, limits, signal);
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new ToolError(`${FILE_NAME}: stack overflow (recursion too deep)`, {
      code: "script_error",
      retryable: false,
    });
  }
  const thrown = error as { name?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (thrown?.cause !== undefined) return guestFailure(thrown.cause, limits, signal);
  const message = error instanceof Error ? error.message : String(error);
  return new ToolError(`${FILE_NAME} could not run: ${message}`, { code: "script_error", retryable: false });
}

function guestFailure(thrown: unknown, limits: SandboxLimits, signal: AbortSignal): ToolError {
  const details = thrown as {
    name?: unknown;
    message?: unknown;
    stack?: unknown;
    lineNumber?: unknown;
  } | null;
  const name = typeof details?.name === "string" ? details.name : "Error";
  const message =
    typeof details?.message === "string"
      ? details.message
      : typeof thrown === "string"
        ? thrown
        : JSON.stringify(thrown);
  const where = location(details);
  if (name === "InternalError" && message === "interrupted") {
    if (signal.aborted)
      return new ToolError(`${FILE_NAME} was cancelled`, { code: "cancelled", retryable: true });
    // QuickJS reports an interrupted loop at the start of its function, so the function is named, not a line.
    const inFunction = /^\s*at ([^\s(<]+) \(/.exec(
      typeof details?.stack === "string" ? details.stack : "",
    )?.[1];
    return new ToolError(
      `${FILE_NAME} ran longer than its ${limits.timeoutMs} ms limit${inFunction ? ` (stopped in ${inFunction})` : ""}`,
      {
        code: "script_timeout",
        retryable: false,
      },
    );
  }
  if (message === "out of memory" || message === "string too long") {
    return new ToolError(
      `${FILE_NAME} ran out of memory (${message}; the limit is ${Math.round(limits.memoryBytes / 1024 / 1024)} MiB)${where ? ` at ${where}` : ""}`,
      { code: "script_memory", retryable: false },
    );
  }
  return new ToolError(`${FILE_NAME}: ${name}: ${message}${where ? ` at ${where}` : ""}`, {
    code: "script_error",
    retryable: false,
    details: { name, message, ...(where ? { at: where } : {}) },
  });
}

/** `line 3, column 7` from the guest's stack (`at main (script.js:3:7)`) or a SyntaxError's lineNumber. */
function location(details: { stack?: unknown; lineNumber?: unknown } | null): string | undefined {
  const stack = typeof details?.stack === "string" ? details.stack : "";
  const match = new RegExp(`${FILE_NAME.replace(".", "\\.")}:(\\d+)(?::(\\d+))?`).exec(stack);
  if (match) return `line ${match[1]}${match[2] ? `, column ${match[2]}` : ""}`;
  return typeof details?.lineNumber === "number" ? `line ${details.lineNumber}` : undefined;
}

function ignore(): void {}
