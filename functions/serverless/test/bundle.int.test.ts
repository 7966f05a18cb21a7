import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleEntry } from "../src/bundle.js";

// Under the repository, so packages left external resolve from its node_modules.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".bundle-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the shared serverless bundler", () => {
  it("bundles an SDK loaded with await import() so that its client can be built (code splitting once handed such imports an empty namespace)", async () => {
    const bundle = await bundleEntry(
      "servicebus",
      fileURLToPath(new URL("./fixtures/servicebus-connect.ts", import.meta.url)),
      out,
      { external: ["@azure/functions-core"], httpApi: false },
    );
    // The SDK is not read at start: it is in a chunk the entry imports dynamically.
    expect(bundle.files.length).toBeGreaterThan(bundle.startFiles.length);
    const run = spawnSync(process.execPath, [bundle.file], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).not.toMatch(/is not a constructor/);
    expect(run.stdout.trim()).toBe("client built");
  });
});
