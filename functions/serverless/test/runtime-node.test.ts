import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleEntry } from "../src/bundle.js";
import { CACHE_DIR, MADE_BY, SCRIPTS_KEY } from "../src/compile-cache.js";
import {
  deployCodeCache,
  deployCodeCacheTargets,
  RUNTIME_NODE_VERSION,
  runtimeNode,
} from "../src/runtime-node.js";

/**
 * The node a shipped code cache is made with (runtime-node.ts). In CI, scripts/node22.sh has fetched the
 * pinned Node 22 (AAT_NODE22) and scripts/qemu.sh installed qemu user mode, so the arm64 cache infra-aws
 * ships for its Graviton functions is made and proved accepted by an arm64 node here.
 */
const scratch = mkdtempSync(join(tmpdir(), "aat-runtime-node-test-"));
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".runtime-node-test-"));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe("runtimeNode", () => {
  it("is this node when it is the version and arch asked for", () => {
    expect(runtimeNode({ version: process.versions.node })).toEqual({ target: { node: process.execPath } });
  });

  it.skipIf(!process.env.AAT_NODE22)(
    "finds the pinned Node 22 where scripts/node22.sh put it, fetching nothing",
    () => {
      const found = runtimeNode({ arch: process.arch });
      expect(found).toEqual({ target: { node: process.env.AAT_NODE22 } });
      const version = spawnSync(process.env.AAT_NODE22!, ["-p", "process.versions.node"], {
        encoding: "utf8",
      });
      expect(version.stdout.trim()).toBe(RUNTIME_NODE_VERSION);
    },
  );

  it("says why when no such node can be had", () => {
    expect(runtimeNode({ arch: "s390x", cacheDir: scratch })).toEqual({
      unavailable: "no cloud function runs on s390x: expected x64 or arm64",
    });
    const missing = runtimeNode({ version: "0.0.1-aat-none", arch: process.arch, cacheDir: scratch });
    expect(missing).toMatchObject({
      unavailable: expect.stringMatching(/^could not fetch node 0\.0\.1-aat-none for/),
    });
  });
});

describe("deployCodeCache: what an infra synth ships (AAT_CODE_CACHE, AAT_CODE_CACHE_NODE, AAT_CODE_CACHE_V8_FLAGS)", () => {
  it("is off when asked, and a wrong setting says what it expects", () => {
    expect(deployCodeCache("infra-test", "x64", { AAT_CODE_CACHE: "off" })).toEqual({});
    expect(deployCodeCacheTargets("infra-test", "x64", { AAT_CODE_CACHE: "off" })).toBeUndefined();
    expect(() => deployCodeCache("infra-test", "x64", { AAT_CODE_CACHE: "yes" })).toThrow(
      /AAT_CODE_CACHE is "yes": expected on \(the default\) or off/,
    );
  });

  it("takes the node and flags it is given", () => {
    const env = {
      AAT_CODE_CACHE_NODE: "/opt/node22/bin/node",
      AAT_CODE_CACHE_V8_FLAGS: " --expose-gc  --stack-size=900 ",
    };
    expect(deployCodeCache("infra-test", "arm64", env)).toEqual({
      target: { node: "/opt/node22/bin/node" },
      flags: ["--expose-gc", "--stack-size=900"],
    });
    expect(deployCodeCacheTargets("infra-test", "arm64", env)).toEqual([
      { node: "/opt/node22/bin/node", flags: ["--expose-gc", "--stack-size=900"] },
    ]);
  });
});

const other = process.arch === "arm64" ? "x64" : "arm64";
const cross = runtimeNode({ arch: other });
const lambdaFlags = ["--expose-gc", "--max-semi-space-size=51", "--max-old-space-size=922"];

describe(`a code cache made for ${other} (under qemu user mode)`, () => {
  // CI installs qemu (scripts/qemu.sh): there this must run, not skip.
  if (process.env.CI && "unavailable" in cross) it("has qemu in CI", () => expect(cross).toEqual({}));
  it.skipIf("unavailable" in cross)(
    `is accepted by a ${other} node started with the flags it was made with, and refused under others`,
    async () => {
      const target = "target" in cross ? cross.target : undefined;
      const entry = fileURLToPath(new URL("./fixtures/compile-cache-entry.ts", import.meta.url));
      const bundle = await bundleEntry("cross", entry, out, {
        httpApi: false,
        compileCache: [{ ...target!, flags: lambdaFlags }],
      });
      const cacheDir = join(bundle.file, "..", CACHE_DIR, `v${RUNTIME_NODE_VERSION.split(".")[0]}-${other}`);
      expect(JSON.parse(readFileSync(join(cacheDir, MADE_BY), "utf8"))).toEqual({
        node: `v${RUNTIME_NODE_VERSION}`,
        arch: other,
        v8: expect.any(String),
        flags: lambdaFlags,
      });
      const run = (flags: string[]) => {
        const script = `const b = await import(process.argv[1]); const result = await b.handler(2);
const caches = [...new Set([...globalThis[Symbol.for("${SCRIPTS_KEY}")].scripts.values()].map((s) => s.cache))];
console.log(JSON.stringify({ result, caches, arch: process.arch }));`;
        const [command, ...prefix] = [...target!.emulator!, target!.node];
        const child = spawnSync(
          command!,
          [...prefix, ...flags, "--input-type=module", "-e", script, pathToFileURL(bundle.file).href],
          { encoding: "utf8", timeout: 120_000 },
        );
        if (child.status !== 0) throw new Error(`${other} node exited ${child.status}: ${child.stderr}`);
        return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as unknown;
      };
      expect(run(lambdaFlags)).toEqual({ result: 12, caches: ["accepted"], arch: other });
      expect(run([])).toEqual({ result: 12, caches: ["rejected"], arch: other });
    },
    240_000,
  );
});
