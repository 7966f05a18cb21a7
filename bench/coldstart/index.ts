/**
 * Cold start of every serverless handler: each is bundled with esbuild exactly as `npm run
 * build:functions` does (functions/serverless/src/bundle.ts: ESM, minified, code-split, node22), then
 * started in fresh `node` processes, median of several runs per handler. Reported per handler:
 * - size: all files (what is deployed) and what a cold start loads (entry + static chunks), raw and gzip;
 * - ready: from the process's start to the handler exported and callable = node's own start (boot) +
 *   importing the bundle; CPU time of the import too (less sensitive to other load on the machine);
 * - first: import + the first invocation, whose runtime build connects to the stores: AWS on moto
 *   (DynamoDB, SQS), GCP api and schedules on Redis and the Pub/Sub emulator (called through the Functions
 *   Framework's registry); GCP steps and Azure are imported only (Pub/Sub push, a Service Bus trigger);
 * - the ratio of ready ms to the goal (50 ms) and of loaded-at-start gzip to the goal (300 KiB), and of
 *   import CPU to a minimal handler bundled the same way in the same run.
 * GCP: the Functions Framework (external, the host loads it first) is imported before the clock starts.
 * Azure: outside the Functions host @azure/functions runs in its test mode and skips the registration.
 * Needs moto, Redis and the Pub/Sub emulator (scripts/services.sh redis moto pubsub). Usage: npm run bench:coldstart [-- --runs 7] [-- --targets aws,gcp]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { HANDLERS as AWS_HANDLERS } from "@aat/functions-aws/bundle";
import { EXTERNAL as AZURE_EXTERNAL, HANDLERS as AZURE_HANDLERS } from "@aat/functions-azure/bundle";
import { EXTERNAL as GCP_EXTERNAL, HANDLERS as GCP_HANDLERS } from "@aat/functions-gcp/bundle";
import { bundleEntry, type HandlerSpec } from "@aat/functions-serverless/bundle";

const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const runs = Number(arg("--runs")) || 7;
const targets = (arg("--targets") ?? "aws,gcp,azure").split(",");
const GOAL_MS = 50;
const GOAL_GZIP_KIB = 300;
const moto = process.env.AWS_ENDPOINT_URL ?? readMoto();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-coldstart-${suffix}`;
const queue = `aat-coldstart-${suffix}`;
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const probe = fileURLToPath(new URL("./probe.mjs", import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function readPubSubHost(): string {
  try {
    return readFileSync(process.env.AAT_PUBSUB_HOST_FILE ?? "/tmp/aat-pubsub.host", "utf8").trim();
  } catch {
    return "127.0.0.1:8085";
  }
}

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

const awsHttpEvent = {
  version: "2.0",
  routeKey: "$default",
  rawPath: "/healthz",
  rawQueryString: "",
  headers: { host: "example.execute-api.us-east-1.amazonaws.com" },
  requestContext: {
    http: { method: "GET", path: "/healthz", protocol: "HTTP/1.1", sourceIp: "192.0.2.1" },
  },
  isBase64Encoded: false,
};

interface Case {
  target: string;
  name: string;
  spec: HandlerSpec;
  /** The event of the first invocation; undefined: import only. */
  event?: unknown;
  /** What a successful first invocation returns: a failed one is not a cold start. */
  expect?: RegExp;
  external?: string[];
  preload?: string[];
  /** "lambda" or "ff-http:<name>" (probe.mjs). */
  invoker?: string;
  /** Environment of the probe process (default: the AWS one). */
  env?: Record<string, string>;
  outDir: string;
}

interface Sample {
  boot: number;
  importMs: number;
  firstInvokeMs: number;
  importCpuMs: number;
  firstInvokeCpuMs: number;
  result: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(one: Case, file: string, times = runs): Sample[] {
  const samples: Sample[] = [];
  for (let run = 0; run < times; run++) {
    const child = spawnSync(
      process.execPath,
      [
        probe,
        file,
        one.event === undefined ? "-" : JSON.stringify(one.event),
        JSON.stringify(one.preload ?? []),
        one.invoker ?? "lambda",
      ],
      { env: one.env ?? env, encoding: "utf8" },
    );
    if (child.status !== 0) throw new Error(`${one.target}/${one.name} failed to start:\n${child.stderr}`);
    const sample = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Sample;
    if (one.expect && !one.expect.test(sample.result)) {
      throw new Error(
        `${one.target}/${one.name}: the first invocation did not succeed: ${sample.result}\n${child.stderr}`,
      );
    }
    samples.push(sample);
  }
  return samples;
}

const scratch = mkdtempSync(join(process.cwd(), ".coldstart-"));
const outOf = (target: string) => join(scratch, target);
const cases: Case[] = [
  {
    target: "ref",
    name: "baseline",
    spec: { entry: here("./baseline.ts"), httpApi: false },
    event: {},
    expect: /"statusCode":200/,
    outDir: outOf("ref"),
  },
  {
    target: "ref",
    name: "sdk-only",
    spec: { entry: here("./sdk-baseline.ts"), httpApi: false },
    event: {},
    expect: /ACTIVE/,
    outDir: outOf("ref"),
  },
];
const awsEvents: Record<string, { event: unknown; expect: RegExp }> = {
  http: { event: awsHttpEvent, expect: /"statusCode":200/ },
  worker: { event: { Records: [] }, expect: /"batchItemFailures":\[\]/ },
  schedule: { event: {}, expect: /"fired":\[\]/ },
};
if (targets.includes("aws")) {
  for (const [name, spec] of Object.entries(AWS_HANDLERS))
    cases.push({ target: "aws", name, spec, ...awsEvents[name]!, outDir: outOf("aws") });
}
/**
 * GCP's first invocation builds the runtime on Redis and the Pub/Sub emulator (scripts/services.sh redis
 * pubsub): `api` answers GET /healthz, `schedules` a POST. `steps` (a CloudEvent function) is imported only.
 */
const gcpEnv = {
  PATH: process.env.PATH ?? "",
  AAT_KV_KIND: "redis",
  AAT_REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  AAT_REDIS_KEY_PREFIX: `aat-coldstart-${suffix}:`,
  AAT_QUEUE_KIND: "pubsub",
  AAT_PUBSUB_PROJECT_ID: "aat-coldstart",
  AAT_PUBSUB_TOPIC: `aat-coldstart-${suffix}`,
  AAT_PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST ?? readPubSubHost(),
  AAT_AUTH_MODE: "apiKey",
  AAT_PLANS_DIRS: "[]",
  AAT_TELEMETRY_LOG_LEVEL: "warn",
};
const gcpEvents: Record<string, Pick<Case, "event" | "expect" | "invoker">> = {
  api: { event: { method: "GET", path: "/healthz" }, expect: /"status":200/, invoker: "ff-http:api" },
  schedules: { event: { method: "POST", path: "/" }, expect: /fired/, invoker: "ff-http:schedules" },
};
if (targets.includes("gcp")) {
  for (const [name, spec] of Object.entries(GCP_HANDLERS))
    cases.push({
      target: "gcp",
      name,
      spec,
      ...(gcpEvents[name] ?? {}),
      env: gcpEnv,
      external: GCP_EXTERNAL,
      preload: GCP_EXTERNAL,
      outDir: outOf("gcp"),
    });
}
if (targets.includes("azure")) {
  for (const [name, spec] of Object.entries(AZURE_HANDLERS))
    cases.push({ target: "azure", name, spec, external: AZURE_EXTERNAL, outDir: outOf("azure") });
}

await DynamoKeyValue.createTable({ endpoint: moto, region, credentials, tableName: table });
// The queue exists before the first cold start, as it does in a deployment.
await (await SqsQueue.connect({ endpoint: moto, region, credentials, name: queue })).close();
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const gzip = (files: string[]) => files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
try {
  const rows: string[][] = [];
  let baseCpu = 0;
  for (const one of cases) {
    const bundle = await bundleEntry(one.name, one.spec.entry, one.outDir, {
      external: one.external ?? [],
      httpApi: one.spec.httpApi,
    });
    // The topic and subscriptions exist before the first cold start, as in a deployment: one untimed
    // start creates them on the emulator.
    if (one.target === "gcp" && one.event !== undefined) measure(one, bundle.file, 1);
    const samples = measure(one, bundle.file);
    const boot = median(samples.map((s) => s.boot));
    const ready = median(samples.map((s) => s.boot + s.importMs));
    const importCpu = median(samples.map((s) => s.importCpuMs));
    const first =
      one.event === undefined ? undefined : median(samples.map((s) => s.importMs + s.firstInvokeMs));
    const firstCpu =
      one.event === undefined ? undefined : median(samples.map((s) => s.importCpuMs + s.firstInvokeCpuMs));
    if (one.name === "baseline") baseCpu = importCpu;
    const startGzip = gzip(bundle.startFiles);
    rows.push([
      `${one.target}/${one.name}`,
      kib(bundle.bytes),
      kib(gzip(bundle.files.map(({ file }) => file))),
      kib(bundle.startBytes),
      kib(startGzip),
      boot.toFixed(1),
      ready.toFixed(1),
      importCpu.toFixed(1),
      first === undefined ? "n/a" : first.toFixed(1),
      firstCpu === undefined ? "n/a" : firstCpu.toFixed(1),
      `${(ready / GOAL_MS).toFixed(2)}x`,
      `${(startGzip / 1024 / GOAL_GZIP_KIB).toFixed(2)}x`,
      `${(importCpu / Math.max(baseCpu, 0.1)).toFixed(0)}x`,
    ]);
  }
  const header = [
    "handler",
    "raw KiB",
    "gzip KiB",
    "start raw",
    "start gzip",
    "boot ms",
    "ready ms",
    "import cpu",
    "first ms",
    "first cpu",
    "ready/goal",
    "gzip/goal",
    "cpu/base",
  ];
  console.log(
    `cold start, median of ${runs} fresh node ${process.version} processes per handler; goal ${GOAL_MS} ms ready, ${GOAL_GZIP_KIB} KiB gzip (moto at ${moto})`,
  );
  console.log(
    "ready = node's own start (boot) + importing the bundle; start = what the cold start loads; first = import + first invocation (ms from the import's start)",
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!)))
      .join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await SqsQueue.destroy({ endpoint: moto, region, credentials, name: queue });
  await DynamoKeyValue.deleteTable({ endpoint: moto, region, credentials, tableName: table });
}
