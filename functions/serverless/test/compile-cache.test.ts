import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type BundleResult, bundleEntry } from "../src/bundle.js";
import { CACHE_DIR, MAIN, PACK, SCRIPTS_KEY, supportsCompileCache } from "../src/compile-cache.js";

/**
 * The scripted bundle with its V8 code cache (functions/serverless/src/compile-cache.ts), proved with
 * this process's node and, when AAT_NODE22 names one (CI fetches it: scripts/node22.sh), the clouds'
 * Node 22: each makes the cache for itself, and a fresh process of it runs the bundle from a read-only
 * copy elsewhere.
 */
const nodes = [...new Set([process.execPath, process.env.AAT_NODE22])].filter(
  (node): node is string => node !== undefined && node !== "" && supportsCompileCache(node),
);

const entry = fileURLToPath(new URL("./fixtures/compile-cache-entry.ts", import.meta.url));
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".compile-cache-test-"));
const scratch = mkdtempSync(join(tmpdir(), "aat-compile-cache-test-"));
afterAll(() => {
  spawnSync("chmod", ["-R", "u+w", scratch]);
  rmSync(out, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

let deployments = 0;
/** Copies a built bundle to a fresh folder (as a deployment unpacks it elsewhere) and makes it read-only. */
function deploy(bundle: BundleResult, change?: (task: string) => void): string {
  const task = join(scratch, `task-${++deployments}`);
  mkdirSync(task);
  cpSync(join(bundle.file, ".."), task, { recursive: true });
  change?.(task);
  spawnSync("chmod", ["-R", "a-w", task]);
  return task;
}

interface Run {
  result?: unknown;
  modules?: { created: string[]; sameClass: boolean };
  /** Each script the loader ran: its code cache accepted, rejected (V8 refused the data) or none. */
  caches?: Record<string, "accepted" | "rejected" | "none">;
  stack?: string;
  /** What the runtime would log about the cache (code-cache-status.ts); undefined when it was used. */
  problem?: { state: string; running: { node: string }; shipped: Array<{ node?: string; flags?: string[] }> };
}

/** Imports the deployed index.mjs in a fresh process, calls `handler(input)` and `modules()`. */
function invoke(node: string, task: string, input: number, flags: string[] = []): Run {
  const script = `
const bundle = await import(process.argv[1]);
const run = {};
try { run.result = await bundle.handler(${input}); } catch (error) { run.stack = error.stack; }
run.modules = await bundle.modules();
run.caches = Object.fromEntries([...globalThis[Symbol.for("${SCRIPTS_KEY}")].scripts].map(([name, s]) => [name, s.cache]));
run.problem = bundle.codeCacheProblem();
console.log(JSON.stringify(run));`;
  const child = spawnSync(
    node,
    [...flags, "--input-type=module", "-e", script, pathToFileURL(join(task, "index.mjs")).href],
    { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "" } },
  );
  if (child.status !== 0) throw new Error(`${node} exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Run;
}

/** sha256 of every file of a deployed bundle: nothing is written there at run time. */
function digest(task: string): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(task, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort())
    hash.update(file).update(readFileSync(file));
  return hash.digest("hex");
}

const scriptsOf = (bundle: BundleResult) =>
  bundle.files
    .map(({ file }) => file.slice(file.lastIndexOf("/") + 1))
    .filter((name) => name.endsWith(".js"));

describe("the scripted bundle with a shipped V8 code cache", () => {
  it("is made from the ES module bundle: index.mjs loads main.js and the chunks as scripts with source maps, the start's also packed in one", async () => {
    const bundle = await bundleEntry("layout", entry, out, {
      httpApi: false,
      compileCache: [{ node: nodes[0] ?? process.execPath }],
    });
    const files = readdirSync(join(bundle.file, ".."));
    expect(files).toContain("index.mjs");
    expect(files).toContain(MAIN);
    expect(files.filter((file) => file.endsWith(".mjs"))).toEqual(["index.mjs"]);
    for (const script of scriptsOf(bundle).filter((name) => name !== PACK))
      expect(files).toContain(`${script}.map`);
    expect(bundle.startFiles).toEqual([bundle.file, join(bundle.file, "..", PACK)]);
    expect(bundle.startFiles[0]).toBe(bundle.file);
    expect(bundle.compileCache?.tags).toEqual([expect.stringMatching(/^v\d+-(x64|arm64)$/)]);
    const map = JSON.parse(readFileSync(join(bundle.file, "..", `${MAIN}.map`), "utf8")) as {
      sources: string[];
    };
    expect(map.sources.some((source) => source.endsWith("compile-cache-entry.ts"))).toBe(true);
  });

  for (const node of nodes) {
    it(`runs the start and a chunk loaded on first use from its cache, read-only and elsewhere, one instance per module (${node})`, async () => {
      const bundle = await bundleEntry("hit", entry, out, { httpApi: false, compileCache: [{ node }] });
      const task = deploy(bundle);
      const before = digest(task);
      const run = invoke(node, task, 2);
      expect(run.result).toBe(12);
      expect(run.modules).toEqual({ created: ["static", "lazy"], sameClass: true });
      expect(Object.keys(run.caches!).sort()).toEqual(scriptsOf(bundle).sort());
      for (const status of Object.values(run.caches!)) expect(status).toBe("accepted");
      expect(run.problem).toBeUndefined();
      expect(digest(task)).toBe(before);
    });
  }

  if (nodes.length === 0) {
    it("is made by a node that can run its loader only, and generation says so", async () => {
      await expect(
        bundleEntry("refused", entry, out, { httpApi: false, compileCache: [{ node: process.execPath }] }),
      ).rejects.toThrow(/cannot run the code cache loader/);
    });
    return;
  }

  it("runs the same scripts without a usable cache: none for this node, or data V8 rejects (other V8 flags)", async () => {
    const node = nodes.at(-1)!;
    const bundle = await bundleEntry("fallback", entry, out, { httpApi: false, compileCache: [{ node }] });
    const none = invoke(
      node,
      deploy(bundle, (task) => rmSync(join(task, CACHE_DIR), { recursive: true })),
      2,
    );
    expect(none.result).toBe(12);
    expect(none.modules).toEqual({ created: ["static", "lazy"], sameClass: true });
    expect(new Set(Object.values(none.caches!))).toEqual(new Set(["none"]));
    expect(none.problem).toMatchObject({ state: "missing", shipped: [] });

    // The runtime starts node with V8 flags the cache was not made with: V8 checks and refuses the data.
    const rejected = invoke(node, deploy(bundle), 2, ["--max-semi-space-size=16"]);
    expect(rejected.result).toBe(12);
    expect(new Set(Object.values(rejected.caches!))).toEqual(new Set(["rejected"]));
    // The runtime's warning names the node that made the cache and its flags beside this one's.
    const made = spawnSync(node, ["-p", "process.version"], { encoding: "utf8" }).stdout.trim();
    expect(rejected.problem).toMatchObject({
      state: "rejected",
      running: { node: made },
      shipped: [{ node: made, flags: [] }],
    });
  });

  it("with --enable-source-maps, compiles the scripts as Node's CommonJS modules, so errors point at the TypeScript", async () => {
    const node = nodes.at(-1)!;
    const bundle = await bundleEntry("stack", entry, out, { httpApi: false, compileCache: [{ node }] });
    const run = invoke(node, deploy(bundle), -1, ["--enable-source-maps"]);
    expect(run.result).toBeUndefined();
    expect(run.stack).toMatch(/^FixtureError: negative input/);
    expect(run.stack).toMatch(/compile-cache-lazy\.ts:6:/);
    expect(run.modules).toEqual({ created: ["static", "lazy"], sameClass: true });
    expect(new Set(Object.values(run.caches!))).toEqual(new Set(["none"]));
    expect(run.problem).toMatchObject({ state: "source-maps" });
  });
});

describe("start.js's source map", () => {
  it("is an index map whose section for each packed script maps as that script's own map does", async () => {
    const bundle = await bundleEntry("packmap", entry, out, {
      httpApi: false,
      compileCache: [{ node: nodes[0] ?? process.execPath }],
    });
    const dir = join(bundle.file, "..");
    const packed = readFileSync(join(dir, PACK), "utf8");
    // Node's own source map reader (what --enable-source-maps and the handlers' stack mapping use).
    const packMap = new SourceMap(JSON.parse(readFileSync(join(dir, `${PACK}.map`), "utf8")));
    const originalAt = (map: SourceMap, text: string, offset: number) => {
      const lines = text.slice(0, offset).split("\n");
      const entry = map.findEntry(lines.length - 1, lines.at(-1)!.length) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      return { source: entry.originalSource, line: entry.originalLine, column: entry.originalColumn };
    };
    const heads = [
      ...packed.matchAll(/"([\w.-]+\.js)": function \(exports, require, module, __filename, __dirname\) \{/g),
    ];
    expect(heads.map((head) => head[1])).toContain(MAIN);
    let compared = 0;
    for (const head of heads) {
      const script = readFileSync(join(dir, head[1]!), "utf8");
      const own = new SourceMap(JSON.parse(readFileSync(join(dir, `${head[1]}.map`), "utf8")));
      const bodyAt = head.index + head[0].length;
      for (let offset = 0; offset < script.length - 40; offset += 7) {
        expect(packed.slice(bodyAt + offset, bodyAt + offset + 1)).toBe(script[offset]);
        // Where the script's own map has no mapping (its head line), a flat reader of the index map finds
        // the previous section's last one: no frame points there.
        const fromOwn = originalAt(own, script, offset);
        if (!fromOwn.source) continue;
        expect(originalAt(packMap, packed, bodyAt + offset)).toEqual(fromOwn);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});
