import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputsOf, staticallyReached } from "@aat/core/testing";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * What a bundle of the adapter loads before anything is used: the REST transport must not parse the AWS
 * SDK's SQS client (nor S3's, a claim check's): both load through `import()` only when chosen.
 */
describe("the adapter bundled (esbuild, code splitting)", () => {
  it("loads neither @aws-sdk/client-sqs nor @aws-sdk/client-s3 at start; both are in chunks of their own", async () => {
    const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));
    const { metafile } = await build({
      entryPoints: [entry],
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      write: false,
      metafile: true,
      outdir: join(tmpdir(), "aat-sqs-bundle-test"),
      logLevel: "silent",
    });
    const outputs = metafile.outputs;
    const root = Object.keys(outputs).find((path) => outputs[path]?.entryPoint?.endsWith("src/index.ts"));
    expect(root).toBeDefined();
    const loaded = inputsOf(outputs, staticallyReached(outputs, [root!]));
    const everything = inputsOf(outputs, Object.keys(outputs));
    for (const sdk of ["@aws-sdk/client-sqs/", "@aws-sdk/client-s3/"]) {
      expect(loaded.filter((input) => input.includes(sdk))).toEqual([]);
      expect(everything.some((input) => input.includes(sdk))).toBe(true);
    }
    // The REST transport is what loads: the signer and the adapter's own modules.
    expect(loaded.some((input) => input.includes("node_modules/aws4/"))).toBe(true);
    expect(loaded.some((input) => input.endsWith("adapters/sqs/src/sqs-queue.ts"))).toBe(true);
  });
});
