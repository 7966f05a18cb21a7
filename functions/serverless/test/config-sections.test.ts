import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@aat/core/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BundleResult, bundleEntry } from "../src/bundle.js";

// The bundler gives each bundle the config section table (core/src/config/section.ts), so a cold start
// builds the schemas of the sections its configuration sets and no others, and loads the same
// configuration as the source does without a table.

const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".config-sections-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let bundle: BundleResult;
beforeAll(async () => {
  bundle = await bundleEntry(
    "config-sections",
    fileURLToPath(new URL("./fixtures/config-sections-entry.ts", import.meta.url)),
    out,
    { httpApi: false },
  );
}, 120_000);

function loadInBundle(env: Record<string, string>): { built: string[]; config: unknown; warnings: string[] } {
  const run = spawnSync(process.execPath, [bundle.file], {
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}

const AWS = {
  AAT_QUEUE_KIND: "sqs",
  AAT_SQS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/aat-steps",
  AAT_SQS_PROVISION: "false",
  AAT_KV_KIND: "dynamodb",
  AAT_DYNAMODB_TABLE: "aat",
};

describe("config sections in a serverless bundle", () => {
  it("builds only the sections the environment sets, and loads what the source loads", () => {
    const loaded = loadInBundle(AWS);
    expect(loaded.built.sort()).toEqual(["kv", "kv.dynamodb", "queue", "queue.sqs"]);
    const source = loadConfig({ env: AWS, cwd: "/srv/aat" });
    expect(loaded.config).toEqual(JSON.parse(JSON.stringify(source.config)));
    expect(loaded.warnings).toEqual(source.warnings);
  });

  it("builds none for an empty environment", () => {
    const loaded = loadInBundle({});
    expect(loaded.built).toEqual([]);
    expect(loaded.config).toEqual(
      JSON.parse(JSON.stringify(loadConfig({ env: {}, cwd: "/srv/aat" }).config)),
    );
  });
});
