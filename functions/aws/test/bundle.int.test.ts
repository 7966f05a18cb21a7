import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { inputsOf, motoUrl, outputKeyOf, staticallyReached } from "@aat/core/testing";
import { bundleEntry } from "@aat/functions-serverless/bundle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_MAIN_FIELDS, HANDLERS } from "../src/bundle.js";
import { motoStoreEnv } from "./support.js";

const moto = motoUrl();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-bundle-${suffix}`;
const queueName = `aat-bundle-${suffix}`;
const bucket = `aat-bundle-claims-${suffix}`.toLowerCase();
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
// Under the repository, so nothing resolves differently from a real build.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".bundle-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A bundled function's environment: this test's table and queue on moto, nothing else inherited. */
function motoStoresEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    ...motoStoreEnv({ moto, region, table, queueName }),
  };
}

describe("the Lambda bundles (moto)", () => {
  beforeAll(async () => {
    await DynamoKeyValue.createTable({ endpoint: moto, region, credentials, tableName: table });
    // The queue and the claim-check bucket exist before the function starts, as in a deployment.
    const creator = await SqsQueue.connect({
      endpoint: moto,
      region,
      credentials,
      name: queueName,
      claimCheck: { bucket, create: true },
    });
    await creator.close();
  });

  afterAll(async () => {
    await SqsQueue.destroy({ endpoint: moto, region, credentials, name: queueName });
    await DynamoKeyValue.deleteTable({ endpoint: moto, region, credentials, tableName: table });
  });

  it("bundled from the AWS SDK's ES builds, the stores work: DynamoDB, SQS, and a claim check through S3", async () => {
    const bundle = await bundleEntry(
      "stores",
      fileURLToPath(new URL("./fixtures/bundled-stores.ts", import.meta.url)),
      out,
      { httpApi: false, mainFields: AWS_MAIN_FIELDS },
    );
    const run = spawnSync(process.execPath, [bundle.file], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...motoStoresEnv(), AAT_SQS_CLAIM_CHECK_BUCKET: bucket },
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.stdout.trim()).toBe("ok");
  });

  it("no network built-ins (the HTTP tool and middy load them on use) and no YAML parser at start, and the bundled handler with middy's rewritten imports answers an SQS batch", async () => {
    const bundle = await bundleEntry("worker-start", HANDLERS.worker.entry, out, {
      httpApi: false,
      mainFields: AWS_MAIN_FIELDS,
    });
    const outputs = bundle.metafile.outputs;
    const start = staticallyReached(
      outputs,
      bundle.startFiles.map((file) => outputKeyOf(file, outputs)),
    );
    const builtins = [...start].flatMap((path) =>
      outputs[path]!.imports.filter((i) => i.external && i.kind === "import-statement").map((i) => i.path),
    );
    const network =
      /^node:(http|https|http2|net|tls|dns|dns\/promises|zlib|stream|stream\/web|stream\/promises|timers)$/;
    expect(builtins.filter((name) => network.test(name))).toEqual([]);
    // Nor the YAML parser: the config is read from the environment and stored plans are parsed definitions.
    const inputs = [...start].flatMap((path) =>
      Object.entries(outputs[path]!.inputs)
        .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
        .map(([input]) => input),
    );
    expect(inputs.filter((input) => input.includes("node_modules/yaml/"))).toEqual([]);
    // The bundled worker runs (middy's stand-ins for its stream imports included): a batch whose one
    // record is malformed is answered with that record as a failure, on the stores on moto.
    const script = `const { handler } = await import(${JSON.stringify(bundle.file)});
const context = { awsRequestId: "r", functionName: "f", getRemainingTimeInMillis: () => 60000 };
const reply = await handler({ Records: [{ messageId: "m-1" }] }, context);
process.stdout.write("\\n" + JSON.stringify(reply));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...motoStoresEnv(), AAT_SQS_PROVISION: "false", AAT_LOG_LEVEL: "error" },
    });
    expect(run.stderr).not.toMatch(/Error/);
    // The handler's log lines come first (the malformed record is logged); its reply is the last line.
    const reply = run.stdout.trim().split("\n").at(-1) ?? "";
    expect(JSON.parse(reply)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
  });

  it("loads the S3 client only for a claim check: the worker's SQS code does not import it statically", async () => {
    const bundle = await bundleEntry("worker", HANDLERS.worker.entry, out, {
      httpApi: false,
      mainFields: AWS_MAIN_FIELDS,
    });
    const outputs = bundle.metafile.outputs;
    const holding = (input: string) =>
      Object.keys(outputs).filter((path) =>
        Object.keys(outputs[path]!.inputs).some((i) => i.includes(input)),
      );
    const sqs = holding("adapters/sqs/src/sqs-queue.ts");
    const s3 = holding("@aws-sdk/client-s3/");
    expect(sqs.length).toBeGreaterThan(0);
    expect(s3.length).toBeGreaterThan(0);
    const withSqs = staticallyReached(outputs, [
      ...sqs,
      ...bundle.startFiles.map((file) => outputKeyOf(file, outputs)),
    ]);
    for (const chunk of s3) expect(withSqs.has(chunk)).toBe(false);
  });
});

describe("what the HTTP handler loads at start and on its first request", () => {
  it("neither the AI SDK nor zod's locales: the chat summariser loads the SDK on use, and @hono/zod-openapi's zod extension is rewritten to need only ZodType", async () => {
    const bundle = await bundleEntry("http", HANDLERS.http.entry, out, {
      httpApi: true,
      mainFields: AWS_MAIN_FIELDS,
    });
    const outputs = bundle.metafile.outputs;
    // What a first request parses: the start, the API (built on the first request) and the stores.
    const firstUse = [
      "functions/serverless/src/api-app.ts",
      "adapters/sqs/src/index.ts",
      "adapters/dynamodb/src/index.ts",
    ];
    const entryOf = (path: string) => outputs[path]!.entryPoint?.replace(/^(\.\.\/)+/, "") ?? "";
    const roots = [
      ...bundle.startFiles.map((file) => outputKeyOf(file, outputs)),
      ...Object.keys(outputs).filter((path) => firstUse.includes(entryOf(path))),
    ];
    expect(roots.length).toBe(bundle.startFiles.length + firstUse.length);
    const loaded = inputsOf(outputs, staticallyReached(outputs, roots));
    expect(loaded.filter((input) => input.includes("node_modules/ai/"))).toEqual([]);
    expect(loaded.filter((input) => /zod\/v4\/locales\/(?!en\.js|index\.js)/.test(input))).toEqual([]);
    // The AI SDK is still in the bundle, for agent steps and model summaries.
    expect(inputsOf(outputs, Object.keys(outputs)).some((input) => input.includes("node_modules/ai/"))).toBe(
      true,
    );
  });
});
