import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { AWS_MAIN_FIELDS } from "../src/bundle.js";
import { fixture, lambdaContext } from "./support.js";

const entry = fileURLToPath(new URL("./fixtures/stack-map-worker.ts", import.meta.url));
const workerHandler = fileURLToPath(new URL("../src/worker-handler.ts", import.meta.url));
// Under the package, so the maps' relative sources resolve to the files as in a real build.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".stack-map-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** 1-based line and column where `text` first appears in a file. */
function positionOf(file: string, text: string): string {
  const lines = readFileSync(file, "utf8").split("\n");
  const line = lines.findIndex((candidate) => candidate.includes(text));
  return `${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

/**
 * The handler's default runtime (the whole serverless composition, 3 MB of bundle) is not used by the
 * fixture, which passes its own: it is left out so that the bundle builds in a fraction of a second.
 */
const withoutContainerRuntime: Plugin = {
  name: "no-container-runtime",
  setup(build) {
    build.onResolve({ filter: /^\.\/runtime\.js$/ }, (args) =>
      args.importer.endsWith("worker-handler.ts") ? { path: "runtime", namespace: "stub" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: `export function containerRuntime() { throw new Error("not in this fixture"); }`,
    }));
  },
};

describe("the Lambda logger maps logged stacks to the TypeScript (no --enable-source-maps)", () => {
  it("the bundled worker handler logs a failed step with its stack at the fixture's throw and the handler's call", async () => {
    // As functions/serverless/src/bundle.ts builds a handler: ESM, split, minified, external source maps.
    const dir = join(out, "worker");
    await build({
      entryPoints: { index: entry },
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node22",
      mainFields: AWS_MAIN_FIELDS,
      minify: true,
      sourcemap: "external",
      plugins: [withoutContainerRuntime],
      logLevel: "error",
    });
    const event = { Records: [fixture<{ Records: unknown[] }>("sqs-event.json").Records[0]] };
    const script = `const { handler } = await import(process.argv[1]);
const reply = await handler(JSON.parse(process.argv[2]), JSON.parse(process.argv[3]));
process.stdout.write(JSON.stringify({ reply, sourceMapsEnabled: process.sourceMapsEnabled }) + "\\n");`;
    const child = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        script,
        pathToFileURL(join(dir, "index.mjs")).href,
        JSON.stringify(event),
        JSON.stringify(lambdaContext("req-stack")),
      ],
      { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "" } },
    );
    expect(child.status, child.stderr).toBe(0);
    const lines = child.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const done = lines.at(-1);
    expect(done.sourceMapsEnabled).toBe(false);
    expect(done.reply.batchItemFailures).toHaveLength(1);
    const failed = lines.find((line) => line.msg === "worker: handling failed; delivered again");
    expect(failed).toMatchObject({
      level: "error",
      requestId: "req-stack",
      error: { name: "RangeError", message: expect.stringMatching(/failed in the fixture$/) },
    });
    const stack: string = failed.error.stack;
    expect(stack).toContain(`${entry}:${positionOf(entry, "new RangeError")}`);
    expect(stack).toContain(`${workerHandler}:${positionOf(workerHandler, "handle(delivery)")}`);
    expect(stack).not.toContain(dir);
  });
});
