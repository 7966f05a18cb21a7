/**
 * Cold start of every serverless handler: each is bundled with esbuild exactly as `npm run
 * build:functions` does (functions/serverless/src/bundle.ts: ESM, minified, code-split, node22), then
 * started in fresh `node` processes, median of several runs per handler. Reported per handler:
 * - size: all files (what is deployed) and what a cold start loads (entry + static chunks), raw and gzip;
 * - boot: node's own start (before the import), its own column; import: importing the bundle, after
 *   node's own start (wall-clock and CPU time; CPU is less sensitive to other load on the machine);
 * - first: import + the first invocation, whose runtime build connects to the stores: AWS on moto
 *   (DynamoDB, SQS), GCP api and schedules on Redis and the Pub/Sub emulator (called through the Functions
 *   Framework's registry); GCP steps and Azure are imported only (Pub/Sub push, a Service Bus trigger);
 * - the goal, made machine-independent: issue 9 asks for at most 50 ms on a machine where importing the
 *   unbundled @aws-sdk/client-sqs took 126 ms "after node's own start". `ref/client-sqs` imports that
 *   same package (resolved from adapters/sqs, unbundled) the same way in the same run, so the goal on this
 *   machine is 50 ms × ref/client-sqs / 126 ms; import/goal and cpu/goal are the ratios to it (wall-clock
 *   and CPU, each against the reference's own median), gzip/goal the loaded-at-start gzip over 300 KiB.
 * - references: `ref/baseline` (an empty handler), `ref/sdk-only` (one DynamoDB call through the AWS SDK),
 *   `ref/engine-floor` (only the config, plan and runner modules a worker cannot run a step without: the
 *   floor of any handler that loads the engine at import).
 * Runs alternate: round after round, every handler and the references once each, so a slow minute on a
 * shared machine weighs on all of them alike.
 * GCP: the Functions Framework (external, the host loads it first) is imported before the clock starts.
 * Azure: the host's Node worker has loaded @grpc/grpc-js (and with it node:http, http2, net, tls, crypto, …)
 *   and provides @azure/functions-core before it imports the app: azure-host.cjs does both before the
 *   clock (the core API through @aat/functions-azure/testing/worker-core, a stand-in quoting the
 *   worker's source), so @azure/functions registers the functions as in the host, not in its test mode.
 * `--base DIR`: also bundle every handler from another checkout of this repository (e.g. the commit
 * before a change, with its own node_modules/@aat links) and measure it in the same rounds: rows
 * `<target>/<handler>@base`, a before/after on the same machine in the same minutes.
 * `--node PATH[,PATH]`: the node binaries the probes run under, one table each (e.g. Node 22, which the
 * clouds run, beside this machine's node); `--compile-cache`: `+cc` rows with the shipped V8 code cache
 * (what `npm run build:functions` and the infra synths ship by default; the rows without it are the
 * plain ES module bundles, `--no-compile-cache`).
 * Needs moto, Redis and the Pub/Sub emulator (scripts/services.sh redis moto pubsub). Usage: npm run bench:coldstart [-- --runs 7] [-- --targets aws,gcp] [-- --node /path/to/node22,/usr/bin/node] [-- --compile-cache]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { DynamoKeyValue } from "@aat/adapter-dynamodb";
import { SqsQueue } from "@aat/adapter-sqs";
import { motoUrl, pubsubEmulatorHost } from "@aat/core/testing";
import { HANDLERS as AWS_HANDLERS } from "@aat/functions-aws/bundle";
import { EXTERNAL as AZURE_EXTERNAL, HANDLERS as AZURE_HANDLERS } from "@aat/functions-azure/bundle";
import { EXTERNAL as GCP_EXTERNAL, HANDLERS as GCP_HANDLERS } from "@aat/functions-gcp/bundle";
import {
  type BundleResult,
  bundleEntry,
  type HandlerSpec,
  supportsCompileCache,
} from "@aat/functions-serverless/bundle";

const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const runs = Number(arg("--runs")) || 7;
const targets = (arg("--targets") ?? "aws,gcp,azure").split(",");
const base = arg("--base");
/**
 * `--node PATH[,PATH...]`: the node binaries the probes run under (default: the one running this bench).
 * Each is measured in the same alternating rounds, with its own ref/client-sqs and so its own goal; e.g.
 * a Node 22 binary (what Lambda, Cloud Run functions and Azure Functions run) next to this machine's node.
 */
const nodes = (arg("--node") ?? process.execPath).split(",").filter(Boolean);
/**
 * `--compile-cache`: also every handler bundled with a V8 code cache for each of those node binaries
 * (as `npm run build:functions` ships it by default, functions/serverless/src/compile-cache.ts), rows
 * `<target>/<handler>+cc`; a node without a cache of its major and arch runs the same scripts without one.
 */
const compileCache = process.argv.includes("--compile-cache");
/** The `--node` binaries a code cache can be made for (they can run its loader: Node >= 20.16 or 22.3). */
const cacheNodes = nodes.filter(supportsCompileCache);
if (compileCache && cacheNodes.length === 0)
  throw new Error(
    "--compile-cache needs a --node that can run the code cache loader (Node >= 20.16 or 22.3)",
  );
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const GOAL_MS = 50;
/** What importing the unbundled @aws-sdk/client-sqs took after node's own start where the goal was set. */
const GOAL_REFERENCE_MS = 126;
const GOAL_GZIP_KIB = 300;
/** The reference the goal is scaled by: the unbundled SQS client, resolved as adapters/sqs resolves it. */
const CLIENT_SQS = createRequire(
  fileURLToPath(new URL("../../adapters/sqs/package.json", import.meta.url)),
).resolve("@aws-sdk/client-sqs");
const moto = motoUrl();
const region = "us-east-1";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const table = `aat-coldstart-${suffix}`;
const queue = `aat-coldstart-${suffix}`;
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const probe = fileURLToPath(new URL("./probe.mjs", import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

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
  // As infra-aws deploys it: the queue exists (created before the timed runs), opened as it is.
  AAT_SQS_PROVISION: "false",
  AAT_AUTH_MODE: "apiKey",
  AAT_PLANS_DIRS: "[]",
  AAT_LOG_LEVEL: "warn",
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
  /** The handler to bundle; undefined for a module imported as it is (`file`). */
  spec?: HandlerSpec;
  /** A module imported unbundled (the goal's reference). */
  file?: string;
  /** The bundler (default: this checkout's; `--base` rows use the other checkout's own). */
  bundle?: typeof bundleEntry;
  /** The event of the first invocation; undefined: import only. */
  event?: unknown;
  /** What a successful first invocation returns: a failed one is not a cold start. */
  expect?: RegExp;
  external?: string[];
  preload?: string[];
  /** stderr of a probe that means it did not run as in the host (e.g. @azure/functions' test mode). */
  refuseStderr?: RegExp;
  /** Bundled with a shipped compile cache for every `--node` binary. */
  compileCache?: boolean;
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

function measure(one: Case, file: string, times = runs, node = nodes[0]!): Sample[] {
  const samples: Sample[] = [];
  for (let run = 0; run < times; run++) {
    const child = spawnSync(
      node,
      [
        probe,
        file,
        one.event === undefined ? "-" : JSON.stringify(one.event),
        JSON.stringify(one.preload ?? []),
        one.invoker ?? "lambda",
      ],
      { env: one.env ?? env, encoding: "utf8" },
    );
    if (child.status !== 0)
      throw new Error(`${one.target}/${one.name} failed to start under ${node}:\n${child.stderr}`);
    if (one.refuseStderr?.test(child.stderr))
      throw new Error(`${one.target}/${one.name} did not start as in its host:\n${child.stderr}`);
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
  { target: "ref", name: "client-sqs", file: CLIENT_SQS, outDir: outOf("ref") },
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
  {
    target: "ref",
    name: "engine-floor",
    spec: { entry: here("./engine-floor.ts"), httpApi: false },
    event: {},
    expect: /"statusCode":200/,
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
  AAT_PUBSUB_EMULATOR_HOST: pubsubEmulatorHost(),
  // As deployed: infra-gcp owns the topics and subscriptions and runs the functions with provisioning
  // off (the untimed first start below creates them on the emulator, with provisioning on).
  AAT_PUBSUB_PROVISION: "false",
  AAT_AUTH_MODE: "apiKey",
  AAT_PLANS_DIRS: "[]",
  AAT_LOG_LEVEL: "warn",
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
/**
 * Azure: imported only (a Service Bus or timer trigger, an HTTP function served through the worker). The
 * preload is what the Functions host's Node worker has done before it imports the app (azure-host.cjs,
 * with the worker's source it follows): the built-ins its @grpc/grpc-js loads, and its
 * @azure/functions-core, here the bench's stand-in, so the library registers every function as in the host
 * (inside the clock). A probe whose library fell back to its test mode is refused.
 */
const AZURE_HOST = [pathToFileURL(here("./azure-host.cjs")).href];
if (targets.includes("azure")) {
  for (const [name, spec] of Object.entries(AZURE_HANDLERS))
    cases.push({
      target: "azure",
      name,
      spec,
      external: AZURE_EXTERNAL,
      preload: AZURE_HOST,
      refuseStderr: /test mode/,
      outDir: outOf("azure"),
    });
}

if (compileCache) {
  for (const one of cases.filter((c) => c.spec && c.target !== "ref").slice())
    cases.push({ ...one, name: `${one.name}+cc`, outDir: `${one.outDir}-cc`, compileCache: true });
}

if (base) {
  // The same handlers bundled from the other checkout (their entries sit at the same relative paths).
  const baseRoot = join(base, "/");
  const baseBundler = (await import(join(baseRoot, "functions/serverless/src/bundle.ts")))
    .bundleEntry as typeof bundleEntry;
  for (const one of cases.filter((c) => c.spec && c.target !== "ref").slice()) {
    const spec = one.spec!;
    if (!spec.entry.startsWith(repoRoot)) throw new Error(`${spec.entry} is not under ${repoRoot}`);
    cases.push({
      ...one,
      name: `${one.name}@base`,
      spec: { ...spec, entry: baseRoot + spec.entry.slice(repoRoot.length) },
      outDir: `${one.outDir}-base`,
      bundle: baseBundler,
    });
  }
}

await DynamoKeyValue.createTable({ endpoint: moto, region, credentials, tableName: table });
// The queue exists before the first cold start, as it does in a deployment.
await (await SqsQueue.connect({ endpoint: moto, region, credentials, name: queue })).close();
const kib = (bytes: number) => (bytes / 1024).toFixed(1);
const gzip = (files: string[]) => files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
try {
  const built: Array<{
    one: Case;
    bundle: BundleResult | undefined;
    file: string;
    samples: Map<string, Sample[]>;
  }> = [];
  for (const one of cases) {
    const bundle = one.spec
      ? await (one.bundle ?? bundleEntry)(one.name, one.spec.entry, one.outDir, {
          external: one.external ?? [],
          httpApi: one.spec.httpApi,
          ...(one.spec.mainFields ? { mainFields: one.spec.mainFields } : {}),
          ...(one.compileCache ? { compileCache: cacheNodes.map((node) => ({ node })) } : {}),
        })
      : undefined;
    const file = bundle?.file ?? one.file!;
    // The topic and subscriptions exist before the first cold start, as in a deployment: one untimed
    // start creates them on the emulator.
    if (one.target === "gcp" && one.event !== undefined)
      measure({ ...one, env: { ...gcpEnv, AAT_PUBSUB_PROVISION: "true" } }, file, 1);
    built.push({ one, bundle, file, samples: new Map(nodes.map((node) => [node, []])) });
  }
  // Round after round, every case once under every node: drift in the machine's load weighs on every
  // row alike.
  for (let round = 0; round < runs; round++)
    for (const entry of built)
      for (const node of nodes) entry.samples.get(node)!.push(...measure(entry.one, entry.file, 1, node));

  const loads = loadavg()
    .map((load) => load.toFixed(2))
    .join(" ");
  for (const node of nodes) report(node, loads);

  /** One table per node binary, its goal scaled by the reference measured under that same binary. */
  function report(node: string, loads: string) {
    const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    const of = (entry: (typeof built)[number]) => entry.samples.get(node)!;
    const reference = built.find(({ one }) => one.file === CLIENT_SQS)!;
    const refMs = median(of(reference).map((s) => s.importMs));
    const refCpu = median(of(reference).map((s) => s.importCpuMs));
    const goalMs = (GOAL_MS * refMs) / GOAL_REFERENCE_MS;
    const goalCpu = (GOAL_MS * refCpu) / GOAL_REFERENCE_MS;
    const rows: string[][] = [];
    for (const entry of built) {
      const { one, bundle } = entry;
      const samples = of(entry);
      const boot = median(samples.map((s) => s.boot));
      const importMs = median(samples.map((s) => s.importMs));
      const importCpu = median(samples.map((s) => s.importCpuMs));
      const first =
        one.event === undefined ? undefined : median(samples.map((s) => s.importMs + s.firstInvokeMs));
      const firstCpu =
        one.event === undefined ? undefined : median(samples.map((s) => s.importCpuMs + s.firstInvokeCpuMs));
      const startGzip = bundle ? gzip(bundle.startFiles) : undefined;
      const size = (value: number | undefined) => (value === undefined ? "-" : kib(value));
      rows.push([
        `${one.target}/${one.name}`,
        size(bundle?.bytes),
        size(bundle ? gzip(bundle.files.map(({ file }) => file)) : undefined),
        size(bundle?.startBytes),
        size(startGzip),
        boot.toFixed(1),
        importMs.toFixed(1),
        importCpu.toFixed(1),
        first === undefined ? "n/a" : first.toFixed(1),
        firstCpu === undefined ? "n/a" : firstCpu.toFixed(1),
        `${(importMs / goalMs).toFixed(2)}x`,
        `${(importCpu / goalCpu).toFixed(2)}x`,
        startGzip === undefined ? "-" : `${(startGzip / 1024 / GOAL_GZIP_KIB).toFixed(2)}x`,
      ]);
    }
    const header = [
      "handler",
      "raw KiB",
      "gzip KiB",
      "start raw",
      "start gzip",
      "boot ms",
      "import ms",
      "import cpu",
      "first ms",
      "first cpu",
      "import/goal",
      "cpu/goal",
      "gzip/goal",
    ];
    console.log(
      `\ncold start, median of ${runs} fresh node ${version} processes per handler (${node}; alternating), load average ${loads}; moto at ${moto}`,
    );
    console.log(
      `goal on this machine: ${GOAL_MS} ms x ref/client-sqs ${refMs.toFixed(1)} ms / ${GOAL_REFERENCE_MS} ms = ${goalMs.toFixed(1)} ms import (CPU: ${goalCpu.toFixed(1)} ms); ${GOAL_GZIP_KIB} KiB gzip loaded at start`,
    );
    console.log(
      "import = after node's own start (boot); start = what the cold start loads; first = import + first invocation (from the import's start)",
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
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await SqsQueue.destroy({ endpoint: moto, region, credentials, name: queue });
  await DynamoKeyValue.deleteTable({ endpoint: moto, region, credentials, tableName: table });
}
