/**
 * Cold start of the Lambda handlers: each handler is bundled with esbuild (functions/aws/src/bundle.ts:
 * ESM, minified, node22, AWS SDK bundled), then started in fresh `node` processes that import the
 * bundle and serve a first invocation against moto (the runtime's first invocation connects to
 * DynamoDB and SQS, as on Lambda). Reported: bundle size raw and gzip, median import time and median
 * import + first invocation, and both as a ratio to a minimal handler bundled the same way in the same
 * run. Needs moto (scripts/services.sh). Usage: npm run bench:coldstart [-- --runs 7]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { bundleEntry, HANDLERS } from "@aat/functions-aws/bundle";
import type { HandlerSpec } from "@aat/functions-serverless/bundle";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 7;
const moto = process.env.AWS_ENDPOINT_URL ?? readMoto();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-coldstart-${suffix}`;
const queue = `aat-coldstart-${suffix}`;
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const probe = fileURLToPath(new URL("./probe.mjs", import.meta.url));

function readMoto(): string {
  try {
    return readFileSync(process.env.AAT_MOTO_URL_FILE ?? "/tmp/aat-moto.url", "utf8").trim();
  } catch {
    return "http://127.0.0.1:5055";
  }
}

const env = {
  PATH: process.env.PATH ?? "",
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_REGION: region,
  AAT_KV_KIND: "dynamodb",
  AAT_DYNAMODB_TABLE: table,
  AAT_DYNAMODB_ENDPOINT: moto,
  AAT_QUEUE_KIND: "sqs",
  AAT_SQS_QUEUE_URL: `${moto}/123456789012/${queue}`,
  AAT_SQS_ENDPOINT: moto,
  AAT_AUTH_MODE: "apiKey",
  AAT_PLANS_DIRS: "[]",
  AAT_TELEMETRY_LOG_LEVEL: "warn",
};

const events: Record<string, unknown> = {
  baseline: {},
  "sdk-only": {},
  http: {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/healthz",
    rawQueryString: "",
    headers: { host: "example.execute-api.us-east-1.amazonaws.com" },
    requestContext: {
      http: { method: "GET", path: "/healthz", protocol: "HTTP/1.1", sourceIp: "192.0.2.1" },
    },
    isBase64Encoded: false,
  },
  worker: { Records: [] },
  schedule: {},
};

interface Sample {
  importMs: number;
  firstInvokeMs: number;
  /** CPU time (user + system) of the same spans: less sensitive to other load on the machine. */
  importCpuMs: number;
  firstInvokeCpuMs: number;
  result: string;
}

/** What a successful first invocation returns, per handler: a failed one is not a cold start. */
const expected: Record<string, RegExp> = {
  baseline: /"statusCode":200/,
  "sdk-only": /ACTIVE/,
  http: /"statusCode":200/,
  worker: /"batchItemFailures":\[\]/,
  schedule: /"fired":\[\]/,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(name: string, file: string, event: unknown): Sample[] {
  const samples: Sample[] = [];
  for (let run = 0; run < runs; run++) {
    const child = spawnSync(process.execPath, [probe, file, JSON.stringify(event)], {
      env,
      encoding: "utf8",
    });
    if (child.status !== 0) throw new Error(`${file} failed to start:\n${child.stderr}`);
    const line = child.stdout.trim().split("\n").at(-1)!;
    const sample = JSON.parse(line) as Sample;
    if (!expected[name]!.test(sample.result)) {
      throw new Error(`${name}: the first invocation did not succeed: ${sample.result}\n${child.stderr}`);
    }
    samples.push(sample);
  }
  return samples;
}

const outDir = mkdtempSync(join(tmpdir(), "aat-coldstart-"));
await DynamoKeyValue.createTable({ endpoint: moto, region, credentials, tableName: table });
// The queue exists before the first cold start, as it does in a deployment.
await (await SqsQueue.connect({ endpoint: moto, region, credentials, name: queue })).close();
try {
  const entries: Array<[string, HandlerSpec]> = [
    ["baseline", { entry: fileURLToPath(new URL("./baseline.ts", import.meta.url)), httpApi: false }],
    ["sdk-only", { entry: fileURLToPath(new URL("./sdk-baseline.ts", import.meta.url)), httpApi: false }],
    ...Object.entries(HANDLERS),
  ];
  const rows: Array<{
    name: string;
    raw: number;
    gzip: number;
    importMs: number;
    totalMs: number;
    importCpuMs: number;
    totalCpuMs: number;
  }> = [];
  for (const [name, entry] of entries) {
    const bundle = await bundleEntry(name, entry, outDir);
    // Every file of the bundle (entry and chunks), as deployed.
    const gzip = bundle.files.reduce((sum, { file }) => sum + gzipSync(readFileSync(file)).length, 0);
    const samples = measure(name, bundle.file, events[name]);
    rows.push({
      name,
      raw: bundle.bytes,
      gzip,
      importMs: median(samples.map((s) => s.importMs)),
      totalMs: median(samples.map((s) => s.importMs + s.firstInvokeMs)),
      importCpuMs: median(samples.map((s) => s.importCpuMs)),
      totalCpuMs: median(samples.map((s) => s.importCpuMs + s.firstInvokeCpuMs)),
    });
  }
  const base = rows[0]!;
  console.log(
    `cold start, median of ${runs} fresh node ${process.version} processes per handler (moto at ${moto})`,
  );
  console.log(
    "handler    raw KiB  gzip KiB  import ms  import+first ms  import ratio  total ratio  import cpu ms  total cpu ms  cpu ratio",
  );
  for (const row of rows) {
    console.log(
      [
        row.name.padEnd(9),
        (row.raw / 1024).toFixed(1).padStart(8),
        (row.gzip / 1024).toFixed(1).padStart(9),
        row.importMs.toFixed(1).padStart(10),
        row.totalMs.toFixed(1).padStart(16),
        `${(row.importMs / base.importMs).toFixed(1)}x`.padStart(13),
        `${(row.totalMs / base.totalMs).toFixed(1)}x`.padStart(12),
        row.importCpuMs.toFixed(1).padStart(14),
        row.totalCpuMs.toFixed(1).padStart(13),
        `${(row.totalCpuMs / base.totalCpuMs).toFixed(1)}x`.padStart(10),
      ].join(" "),
    );
  }
} finally {
  rmSync(outDir, { recursive: true, force: true });
  await SqsQueue.destroy({ endpoint: moto, region, credentials, name: queue });
  await DynamoKeyValue.deleteTable({ endpoint: moto, region, credentials, tableName: table });
}
