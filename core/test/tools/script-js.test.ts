import { describe, expect, it } from "vitest";
import { scriptJsTool } from "../../src/tools/builtin/script-js.js";
import { callTool } from "../../src/tools/call.js";
import { ToolError, ToolInputError } from "../../src/tools/errors.js";
import { callContext } from "./helpers.js";

const tool = scriptJsTool({ timeoutMs: 1_000 });

function run(code: string, input?: unknown, extra: Record<string, unknown> = {}) {
  return callTool(tool, { code, ...(input !== undefined ? { input } : {}), ...extra }, callContext());
}

async function failure(
  code: string,
  input?: unknown,
  extra: Record<string, unknown> = {},
): Promise<ToolError> {
  const error = await run(code, input, extra).then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

/** After a failure the sandbox must still work, and the host must be untouched. */
async function stillHealthy(): Promise<void> {
  expect(await run("input.a + 1", { a: 41 })).toBe(42);
  expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
}

describe("script.js", () => {
  it("runs a scoring script that defines main(input)", async () => {
    const code = `
      const weights = { malware: 50, phishing: 30, scan: 5 };
      function main(input) {
        const score = input.findings.reduce((sum, f) => sum + (weights[f.kind] ?? 1) * f.confidence, 0);
        return { score: Math.round(score), verdict: score >= 40 ? "malicious" : "benign", count: input.findings.length };
      }`;
    const out = await run(code, {
      findings: [
        { kind: "malware", confidence: 0.9 },
        { kind: "scan", confidence: 1 },
      ],
    });
    expect(out).toEqual({ score: 50, verdict: "malicious", count: 2 });
  });

  it("takes an expression over the `input` global, and returns null for undefined", async () => {
    expect(await run("input.items.filter((x) => x > 2).length", { items: [1, 2, 3, 4] })).toBe(2);
    expect(await run("({ upper: input.name.toUpperCase() })", { name: "ada" })).toEqual({ upper: "ADA" });
    expect(await run("let x = 1")).toBeNull();
  });

  it("parses and reshapes text, and settles an async main", async () => {
    const code = `async function main(input) {
      const rows = input.csv.trim().split("\\n").map((line) => line.split(","));
      const [head, ...body] = rows;
      return await Promise.resolve(body.map((r) => Object.fromEntries(r.map((v, i) => [head[i], v]))));
    }`;
    expect(await run(code, { csv: "ip,port\n1.2.3.4,22\n5.6.7.8,443\n" })).toEqual([
      { ip: "1.2.3.4", port: "22" },
      { ip: "5.6.7.8", port: "443" },
    ]);
  });

  it("reports errors in user code with the line", async () => {
    const thrown = await failure(
      "function main(input) {\n  const a = 1;\n  return input.missing.field;\n}",
      {},
    );
    expect(thrown).toMatchObject({ code: "script_error", retryable: false });
    expect(thrown.message).toMatch(/^script\.js: TypeError: .*'field'.* at line 3, column \d+$/);
    const syntax = await failure("const x = 1;\nconst y = ;\n");
    expect(syntax.message).toMatch(/^script\.js: SyntaxError: .* at line 2/);
    const custom = await failure("\n\nthrow new RangeError('score out of range')");
    expect(custom.message).toMatch(/^script\.js: RangeError: score out of range at line 3, column \d+$/);
    const plain = await failure("throw 'just a string'");
    expect(plain.message).toBe("script.js: Error: just a string");
  });

  it("has no way out: no process, require, fetch, timers or host globals, even through constructors", async () => {
    const probe = `({
      process: typeof process,
      require: typeof require,
      fetch: typeof globalThis.fetch,
      setTimeout: typeof setTimeout,
      console: typeof console,
      std: typeof std,
      os: typeof os,
      viaFunction: Function("return typeof process")(),
      viaConstructor: (() => {}).constructor("return typeof require")(),
      viaThis: (function () { return typeof this.process; })(),
      importMeta: (() => { try { return typeof eval("import.meta"); } catch (e) { return e.name; } })(),
    })`;
    expect(await run(probe)).toEqual({
      process: "undefined",
      require: "undefined",
      fetch: "undefined",
      setTimeout: "undefined",
      console: "undefined",
      std: "undefined",
      os: "undefined",
      viaFunction: "undefined",
      viaConstructor: "undefined",
      viaThis: "undefined",
      importMeta: "SyntaxError",
    });
    const load = await failure("import('node:fs').then(() => 'loaded')");
    expect(load.message).toContain("script.js");
    await run("globalThis.pwned = true; Object.prototype.pwned = true; JSON.stringify = () => 'x'; 1");
    expect(({} as Record<string, unknown>).pwned).toBeUndefined();
    await stillHealthy();
  });

  it("stops an infinite loop at the time limit with a clear error", async () => {
    // 400 ms, not less: the limit counts from before the script is compiled, and on a loaded machine (CI
    // with other suites) 100 ms once ran out before main was called, so the message named no function.
    const error = await failure("function main() {\n  while (true) {}\n}", undefined, { timeoutMs: 400 });
    expect(error).toMatchObject({ code: "script_timeout", retryable: false });
    expect(error.message).toBe("script.js ran longer than its 400 ms limit (stopped in main)");
    await stillHealthy();
  });

  it("stops a memory bomb at the memory limit with a clear error", async () => {
    // A generous time limit so that on a loaded machine the memory limit, not the clock, stops the bomb.
    const small = scriptJsTool({ memoryBytes: 8 * 1024 * 1024, timeoutMs: 60_000 });
    for (const code of [
      "const all = []; for (;;) all.push({ n: all.length, s: 'x' + all.length });",
      "new ArrayBuffer(64 * 1024 * 1024)",
      "let s = 'x'; for (;;) s = s + s;",
    ]) {
      const error = (await callTool(small, { code }, callContext()).catch((e: unknown) => e)) as ToolError;
      expect(error).toBeInstanceOf(ToolError);
      expect(error.code).toBe("script_memory");
      expect(error.message).toMatch(
        /^script\.js ran out of memory \((out of memory|string too long); the limit is 8 MiB\)/,
      );
    }
    await stillHealthy();
  });

  it("fails runaway recursion cleanly", async () => {
    const error = await failure("function f(n) { return f(n + 1) + 1; }\nf(0)");
    expect(error.code).toBe("script_error");
    expect(error.message).toMatch(/stack overflow/);
    const parse = await failure("JSON.parse('['.repeat(200000))");
    expect(parse.message).toMatch(/stack overflow/);
    await stillHealthy();
  });

  it("does not start when the step's signal is already aborted", async () => {
    // The interpreter runs on the caller's thread, so the signal is honoured before the run and at
    // interrupt checks; a timer cannot fire while the script holds the thread (the time limit does).
    const controller = new AbortController();
    controller.abort();
    const error = (await callTool(
      tool,
      { code: "for (;;) {}" },
      callContext({ signal: controller.signal }),
    ).catch((e: unknown) => e)) as ToolError;
    expect(error).toMatchObject({ code: "cancelled", retryable: true, message: "script.js was cancelled" });
  });

  it("validates code, input size and the time limit asked for", async () => {
    const limited = scriptJsTool({ maxInputBytes: 20, maxOutputBytes: 10 });
    const error = (await callTool(
      limited,
      { code: "", input: { long: "x".repeat(50) }, timeoutMs: 5_000 },
      callContext(),
    ).catch((e: unknown) => e)) as ToolInputError;
    expect(error).toBeInstanceOf(ToolInputError);
    expect(error.issues.map((i) => i.path)).toEqual(["code", "input", "timeoutMs"]);
    const big = (await callTool(limited, { code: "'x'.repeat(100)" }, callContext()).catch(
      (e: unknown) => e,
    )) as ToolError;
    expect(big).toMatchObject({ code: "script_output_too_large", retryable: false });
  });
});
