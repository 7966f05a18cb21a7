import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runInThisContext } from "node:vm";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { type BundleResult, bundleEntry, supportsCompileCache } from "../src/bundle.js";
import { PACK, SCRIPTS_KEY } from "../src/compile-cache.js";
import { createJsonLineLogger } from "../src/logger.js";
import { mapStack, withMappedStacks } from "../src/stack-map.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const entry = fixture("stack-map-entry.ts");
const thrower = fixture("stack-map-throw.ts");
const lazy = fixture("stack-map-lazy.ts");

/** 1-based line and column where `text` first appears in a fixture file. */
function positionOf(file: string, text: string): { line: number; column: number } {
  const lines = readFileSync(file, "utf8").split("\n");
  const line = lines.findIndex((candidate) => candidate.includes(text));
  if (line < 0) throw new Error(`${text} is not in ${file}`);
  return { line: line + 1, column: lines[line]!.indexOf(text) + 1 };
}

// Under the package, so the maps' relative sources resolve to the fixtures as in a real build.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".stack-map-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Logged {
  severity: string;
  message: string;
  error: { name: string; message: string; stack: string };
}

/**
 * Runs `handler(where)` of a built fixture bundle in a fresh node (no --enable-source-maps) and returns
 * the line its logger wrote, with what the child saw of source maps and the code cache.
 */
function runBundle(
  node: string,
  bundle: BundleResult,
  where: "start" | "lazy",
): { logged: Logged; sourceMapsEnabled: boolean; caches?: string[] } {
  const script = `
const bundle = await import(process.argv[1]);
await bundle.handler(process.argv[2]);
const registry = globalThis[Symbol.for("${SCRIPTS_KEY}")];
process.stdout.write(JSON.stringify({ sourceMapsEnabled: process.sourceMapsEnabled, caches: registry && [...registry.scripts.values()].map((s) => s.cache) }) + "\\n");`;
  const child = spawnSync(
    node,
    ["--input-type=module", "-e", script, pathToFileURL(bundle.file).href, where],
    { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "" } },
  );
  if (child.status !== 0) throw new Error(`the fixture bundle exited ${child.status}: ${child.stderr}`);
  const [line, info] = child.stdout.trim().split("\n");
  return { logged: JSON.parse(line!) as Logged, ...JSON.parse(info!) };
}

/** The stack names the fixtures' TypeScript at the throw and at each caller, and no bundle file. */
function expectMapped(stack: string, where: "start" | "lazy", bundle: BundleResult) {
  expect(stack).toMatch(new RegExp(`^FixtureStackError: exploded: (later: )?${where}\\n`));
  const thrown = positionOf(thrower, "new FixtureStackError(");
  const frames = stack.split("\n").slice(1);
  expect(frames[0]).toMatch(/^\s+at /);
  expect(frames[0]).toContain(`${thrower}:${thrown.line}:${thrown.column}`);
  const called = positionOf(entry, where === "lazy" ? "explodeLater(where)" : "explode(where)");
  expect(stack).toContain(`${entry}:${called.line}:`);
  if (where === "lazy") expect(stack).toContain(`${lazy}:${positionOf(lazy, "explode(`").line}:`);
  expect(stack).not.toContain(join(bundle.file, ".."));
}

/** This process's node and, when AAT_NODE22 names one (CI fetches it: scripts/node22.sh), the clouds' Node 22. */
const nodes = [...new Set([process.execPath, process.env.AAT_NODE22])].filter(
  (node): node is string => node !== undefined && node !== "",
);

describe("stacks mapped when logged, without --enable-source-maps", () => {
  for (const node of nodes) {
    it(`the ES module bundle: an error thrown in the start and one through a lazy chunk name the TypeScript file, line and column (${node})`, async () => {
      const bundle = await bundleEntry("esm", entry, out, { httpApi: false });
      for (const where of ["start", "lazy"] as const) {
        const { logged, sourceMapsEnabled } = runBundle(node, bundle, where);
        expect(sourceMapsEnabled).toBe(false);
        expect(logged).toMatchObject({
          severity: "ERROR",
          message: "the fixture failed",
          error: { name: "FixtureStackError", message: expect.stringContaining("exploded") },
        });
        expectMapped(logged.error.stack, where, bundle);
      }
    });
  }

  for (const node of nodes.filter(supportsCompileCache)) {
    it(`the code cache form: start.js (index map, one section per packed script) and a lazy chunk's script, run with the cache (${node})`, async () => {
      const bundle = await bundleEntry("cached", entry, out, { httpApi: false, compileCache: [{ node }] });
      for (const where of ["start", "lazy"] as const) {
        const { logged, sourceMapsEnabled, caches } = runBundle(node, bundle, where);
        expect(sourceMapsEnabled).toBe(false);
        // Run from the shipped cache (not the CommonJS fallback a source-mapped run takes).
        expect(new Set(caches)).toEqual(new Set(["accepted"]));
        expectMapped(logged.error.stack, where, bundle);
        // start.js holds the start's modules: the thrower's caller is in the same file, and the map names
        // the function at the call (its minified name is replaced).
        if (where === "start") expect(logged.error.stack.split("\n")[1]).toMatch(/^\s+at explode \(/);
      }
      const packMap = JSON.parse(readFileSync(join(bundle.file, "..", `${PACK}.map`), "utf8")) as {
        sections?: unknown[];
      };
      expect(packMap.sections?.length).toBeGreaterThan(0);
    });
  }
});

/** Two modules' code as esbuild writes them, each with its map, and where the throw is in each source. */
const SOURCES = {
  "alpha.ts": `export function alpha(n: number): number {\n  if (n > 1) return n;\n  throw new RangeError("alpha: " + n);\n}\n`,
  "beta.ts": `interface Box { n: number }\n\nexport function beta(box: Box): number {\n  const twice = box.n * 2;\n  if (twice > 100) return twice;\n  throw new TypeError("beta: " + twice);\n}\n`,
};

function compiled(dir: string, name: keyof typeof SOURCES) {
  const result = transformSync(SOURCES[name], {
    loader: "ts",
    format: "cjs",
    minify: true,
    sourcemap: "external",
    sourcefile: `src/${name}`,
  });
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "src", name), SOURCES[name]);
  return { code: result.code, map: JSON.parse(result.map) as Record<string, unknown> };
}

/**
 * The comment that names a file's map, never written whole in this file: vitest's own stack mapping reads
 * such a comment from a test's source.
 */
const MAPPING_COMMENT = ["//#", "sourceMappingURL="].join(" ");

type Exports = Record<string, (arg: unknown) => unknown>;
type Body = (exports: Exports, module: { exports: Exports }) => void;

/** Runs the CommonJS bodies of `file` (as the code cache loader does, in a vm script) and calls `call`. */
function stackOf(file: string, code: string, call: (modules: Record<string, Body>) => void): string {
  const modules = runInThisContext(code, { filename: file }) as Record<string, Body>;
  try {
    call(modules);
  } catch (error) {
    return (error as Error).stack!;
  }
  throw new Error("no error");
}

const exportsOf = (body: Body) => {
  const module = { exports: {} as Exports };
  body(module.exports, module);
  return module.exports;
};

describe("mapStack", () => {
  const dir = mkdtempSync(join(out, "unit-"));

  it("maps frames through an index map (sections at line and column offsets), as start.js packs its scripts", () => {
    const alpha = compiled(dir, "alpha.ts");
    const beta = compiled(dir, "beta.ts");
    // Like start.js: a head line, then each body inside a module function that starts mid-line.
    const head = `"use strict";(function(){return{\n`;
    const opening = (name: string) => `${JSON.stringify(name)}: function (exports, module) {`;
    const alphaLine = 1;
    const betaLine = alphaLine + alpha.code.split("\n").length;
    const text = `${head}${opening("alpha")}${alpha.code}},\n${opening("beta")}${beta.code}}}})()\n`;
    const file = join(dir, "packed.js");
    writeFileSync(file, text);
    writeFileSync(
      `${file}.map`,
      JSON.stringify({
        version: 3,
        file: "packed.js",
        sections: [
          { offset: { line: alphaLine, column: opening("alpha").length }, map: alpha.map },
          { offset: { line: betaLine, column: opening("beta").length }, map: beta.map },
        ],
      }),
    );
    const alphaStack = stackOf(file, text, (m) => exportsOf(m.alpha!).alpha!(1));
    expect(alphaStack).toContain(`${file}:${alphaLine + 1}:`);
    const mappedAlpha = mapStack(alphaStack);
    expect(mappedAlpha.split("\n")[0]).toBe("RangeError: alpha: 1");
    expect(mappedAlpha).toContain(`(${join(dir, "src", "alpha.ts")}:3:9)`);
    const mappedBeta = mapStack(stackOf(file, text, (m) => exportsOf(m.beta!).beta!({ n: 3 })));
    expect(mappedBeta).toContain(`(${join(dir, "src", "beta.ts")}:6:9)`);
    // This test's own frames have no map beside them: they stay as V8 wrote them.
    expect(mappedBeta).toContain(fileURLToPath(import.meta.url));
  });

  it("maps through the file's sourceMappingURL comment (a map of another name, or inline), file: URL frames stay URLs", () => {
    const alpha = compiled(dir, "alpha.ts");
    const call = (m: Record<string, Body>) => exportsOf(m.body!).alpha!(0);
    // The body starts on the line after the wrapper (as in the code cache's scripts): the map moves down one.
    const wrap = (code: string) => `({ body: function (exports, module) {\n${code}} })`;
    const movedMap = { ...alpha.map, mappings: `;${alpha.map.mappings}` };
    const named = join(dir, "named.js");
    const namedText = `${wrap(alpha.code)}\n${MAPPING_COMMENT}maps/named.map\n`;
    writeFileSync(named, namedText);
    mkdirSync(join(dir, "maps"), { recursive: true });
    writeFileSync(
      join(dir, "maps", "named.map"),
      JSON.stringify({ ...movedMap, sources: ["../src/alpha.ts"] }),
    );
    expect(mapStack(stackOf(named, namedText, call))).toContain(`(${join(dir, "src", "alpha.ts")}:3:9)`);

    const inline = join(dir, "inline.js");
    const inlineMap = Buffer.from(JSON.stringify(movedMap)).toString("base64");
    const inlineText = `${wrap(alpha.code)}\n${MAPPING_COMMENT}data:application/json;base64,${inlineMap}\n`;
    writeFileSync(inline, inlineText);
    const inlineStack = stackOf(inline, inlineText, call);
    expect(mapStack(inlineStack)).toContain(`(${join(dir, "src", "alpha.ts")}:3:9)`);
    // The same frame as a file: URL (how ES module frames read) maps to the source's URL.
    const asUrl = inlineStack.replaceAll(inline, pathToFileURL(inline).href);
    expect(mapStack(asUrl)).toContain(`(${pathToFileURL(join(dir, "src", "alpha.ts")).href}:3:9)`);
  });

  it("returns the stack unchanged: frames without a map, a corrupt map, a map without sources, not a stack", () => {
    const alpha = compiled(dir, "alpha.ts");
    const run = (name: string, map?: string) => {
      const file = join(dir, name);
      writeFileSync(file, alpha.code);
      if (map !== undefined) writeFileSync(`${file}.map`, map);
      return stackOf(file, `({ body: function (exports, module) {\n${alpha.code}} })`, (m) =>
        exportsOf(m.body!).alpha!(0),
      );
    };
    for (const [name, map] of [
      ["nomap.js", undefined],
      ["notjson.js", "{ this is not json"],
      ["nosources.js", JSON.stringify({ version: 3, mappings: "AAAA" })],
      ["garbage.js", JSON.stringify({ version: 3, sources: ["x.ts"], names: [], mappings: "!!!!;%%%" })],
      ["empty.js", JSON.stringify({ version: 3, sources: [], names: [], mappings: "" })],
    ] as const) {
      const stack = run(name, map);
      expect(stack, name).toContain(join(dir, name));
      expect(mapStack(stack), name).toBe(stack);
    }
    expect(mapStack("")).toBe("");
    expect(mapStack("not a stack\n  at nothing")).toBe("not a stack\n  at nothing");
    const internal =
      "Error: x\n    at Module._compile (node:internal/modules/cjs/loader:1554:14)\n    at /no/such/file.js:1:2";
    expect(mapStack(internal)).toBe(internal);
    const long = `Error: x\n    at ${"(".repeat(5_000)} (/no/such/file.js:1:2)`;
    expect(mapStack(long)).toBe(long);
    expect(mapStack(undefined as unknown as string)).toBeUndefined();
  });

  it("reads a file's map once and keeps it", () => {
    const alpha = compiled(dir, "alpha.ts");
    const file = join(dir, "once.js");
    writeFileSync(file, alpha.code);
    writeFileSync(
      `${file}.map`,
      JSON.stringify({ ...alpha.map, sources: ["src/alpha.ts"], mappings: `;${alpha.map.mappings}` }),
    );
    const stack = stackOf(file, `({ body: function (exports, module) {\n${alpha.code}} })`, (m) =>
      exportsOf(m.body!).alpha!(0),
    );
    const first = mapStack(stack);
    expect(first).toContain(`${join(dir, "src", "alpha.ts")}:3:9`);
    writeFileSync(`${file}.map`, "corrupt now");
    expect(mapStack(stack)).toBe(first);
  });
});

describe("the loggers' error fields", () => {
  it("an Error field is written as name, message and mapped stack (with its cause); a stack field and an object's stack are mapped", () => {
    const lines: string[] = [];
    const logger = createJsonLineLogger("info", (line) => lines.push(line));
    const cause = new Error("inner");
    const error = new TypeError("outer", { cause });
    logger.error({ error, id: 1 }, "failed");
    logger.error({ error: { name: "E", message: "m", stack: error.stack }, stack: cause.stack }, "as fields");
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      severity: "ERROR",
      id: 1,
      message: "failed",
      error: {
        name: "TypeError",
        message: "outer",
        stack: error.stack,
        cause: { name: "Error", message: "inner" },
      },
    });
    expect(second).toMatchObject({
      error: { name: "E", message: "m", stack: error.stack },
      stack: cause.stack,
    });
  });

  it("an error whose stack cannot be read is logged without one; the logger does not throw", () => {
    const lines: string[] = [];
    const error = new Error("no stack");
    Object.defineProperty(error, "stack", {
      get() {
        throw new Error("stack getter failed");
      },
    });
    createJsonLineLogger("info", (line) => lines.push(line)).error({ error }, "failed");
    expect(JSON.parse(lines[0]!).error).toEqual({ name: "Error", message: "no stack" });
  });

  it("fields without an error or a stack are the same object (nothing copied)", () => {
    const fields = { runId: "r", count: 2, nested: { a: 1 }, list: [1], none: null };
    expect(withMappedStacks(fields)).toBe(fields);
  });
});
