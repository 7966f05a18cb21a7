import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { INCLUDE, ISOLATED } from "../../../vitest.config.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * What a unit test file may not do while sharing its worker's module graph with other files
 * (vitest.config.ts runs them with `isolate: false`): mock a module, stub a global, or register a
 * process-wide OpenTelemetry global that outlives the file.
 */
const PROCESS_WIDE = [
  /\bvi\.(mock|doMock|stubGlobal|stubEnv)\(/,
  /\bsetGlobal(TracerProvider|ContextManager|Propagator|MeterProvider)\(/,
  /\bstartTracing\(/,
  /\bprovider\.register\(/,
];

function unitTestFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...unitTestFiles(path));
    else if (/(?<!\.int|\.e2e)\.test\.ts$/.test(entry.name)) files.push(relative(ROOT, path));
  }
  return files;
}

// The folders an INCLUDE pattern searches: "adapters/<any>/test/..." gives every adapters/<name>/test.
function testDirs(pattern: string): string[] {
  let dirs = [ROOT];
  for (const segment of pattern.slice(0, pattern.indexOf("/**")).split("/")) {
    if (!segment.includes("*")) {
      dirs = dirs.map((dir) => join(dir, segment));
      continue;
    }
    const match = new RegExp(`^${segment.replaceAll(".", "\\.").replaceAll("*", ".*")}$`);
    dirs = dirs.flatMap((dir) =>
      readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && match.test(entry.name))
        .map((entry) => join(dir, entry.name)),
    );
  }
  return dirs;
}

describe("unit test isolation", () => {
  const files = INCLUDE.flatMap(testDirs).flatMap((dir) => {
    try {
      return unitTestFiles(dir);
    } catch {
      return []; // a package without tests
    }
  });

  it("finds the unit test files", () => {
    expect(files).toContain("core/test/testing/test-isolation.test.ts");
    expect(files.length).toBeGreaterThan(100);
    for (const file of ISOLATED) expect(files, `${file} is in ISOLATED but does not exist`).toContain(file);
  });

  it("runs every file that changes process-wide state isolated (vitest.config.ts, ISOLATED)", () => {
    const shared = files.filter(
      (file) =>
        !ISOLATED.includes(file) &&
        PROCESS_WIDE.some((pattern) => pattern.test(readFileSync(join(ROOT, file), "utf8"))),
    );
    expect(
      shared,
      "these files mock a module, stub a global or register an OpenTelemetry global: add them to ISOLATED in vitest.config.ts",
    ).toEqual([]);
  });
});
