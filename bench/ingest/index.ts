/**
 * bench/ingest: signed webhook deliveries per second, autocannon against POST /v1/hooks/:triggerId on
 * the aat node runtime (role api, KV=redis, QUEUE=nats: verify the HMAC, store the run with its delivery
 * record and audit entry in one atomic Redis write, enqueue its first step on NATS), next to a bare
 * node:http server doing exactly the HMAC check, a Redis SET NX and a JetStream publish with ack. Both
 * run in processes of their own on the same machine, in the same run, under the same load, with a
 * unique signed body per request; rounds alternate between them.
 *
 *   npm run bench:ingest      (CONNECTIONS=32, ROUND_SECONDS=8, ROUNDS=3 per server, WARMUP_SECONDS=6)
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NatsQueue } from "@aat/adapter-nats";
import { deleteNamespace } from "@aat/adapter-redis";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { deleteKeys, deleteStream, NATS_URL, REDIS_URL, runSuffix } from "../lib/backends.js";
import { type Cleanups, runBench } from "../lib/deadline.js";
import { fmt, machine } from "../lib/measure.js";
import { readyMessage, type ServerEnv, signedRequests } from "./protocol.js";

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const ROUND_SECONDS = Number(process.env.ROUND_SECONDS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/**
 * Steady state is what is compared: loaded in 2-s windows from a cold start, both servers take about
 * 4 s to reach their plateau (V8 is still optimising; session 6: aat 2,474 then 3,913–4,204 req/s, bare
 * 3,721, 4,490, then 6,083–6,888), so a 2-s warm-up left the first round of each partly cold.
 */
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 6);
const GOAL = 0.7;

interface Server {
  name: string;
  url: string;
  process: ChildProcess;
}

/** Starts a server script in a process of its own (TypeScript through tsx) and waits for its URL. */
async function startServer(
  name: string,
  script: string,
  env: ServerEnv,
  cleanups: Cleanups,
): Promise<Server> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...env, AAT_LOG_LEVEL: process.env.AAT_LOG_LEVEL ?? "info" },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  cleanups.add(() => stopServer(child));
  const url = await new Promise<string>((resolve, reject) => {
    // Loading the runtime through tsx takes seconds, many more on a loaded machine.
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 50 s`)), 50_000);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    child.on("message", (message) => {
      const ready = readyMessage.safeParse(message);
      if (!ready.success) return;
      clearTimeout(timer);
      resolve(ready.data.url);
    });
  });
  return { name, url, process: child };
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function load(server: Server, seconds: number, tag: string): Promise<number> {
  const result = await autocannon({
    url: server.url,
    method: "POST",
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ setupRequest: signedRequests(tag) }],
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${server.name}: ${result.non2xx} answers were not 2xx, ${result.errors} errors, ${result.timeouts} timeouts (of ${result.requests.sent})`,
    );
  }
  return result["2xx"] / (result.duration || seconds);
}

async function main(cleanups: Cleanups) {
  const suffix = runSuffix();
  const aatEnv: ServerEnv = {
    BENCH_REDIS_URL: REDIS_URL,
    BENCH_NATS_URL: NATS_URL,
    BENCH_KEY_PREFIX: `aat-bench-ingest-${suffix}`,
    BENCH_STREAM: `AAT_BENCH_INGEST_${suffix}`,
  };
  const bareEnv: ServerEnv = {
    ...aatEnv,
    BENCH_KEY_PREFIX: `aat-bench-bare-${suffix}`,
    BENCH_STREAM: `AAT_BENCH_BARE_${suffix}`,
  };
  const redis = new Redis(REDIS_URL);
  cleanups.add(async () => redis.disconnect());
  cleanups.add(() => deleteNamespace(redis, aatEnv.BENCH_KEY_PREFIX));
  cleanups.add(() => deleteKeys(redis, bareEnv.BENCH_KEY_PREFIX));
  cleanups.add(() => NatsQueue.destroy({ servers: NATS_URL, stream: aatEnv.BENCH_STREAM }));
  cleanups.add(() => deleteStream(bareEnv.BENCH_STREAM));
  console.log(
    `bench/ingest — signed webhook deliveries, autocannon with ${CONNECTIONS} connections, a unique body per request; ` +
      `${ROUNDS} rounds of ${ROUND_SECONDS} s per server, alternating, after ${WARMUP_SECONDS} s of warm-up each`,
  );
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`servers: ${REDIS_URL}, ${NATS_URL}\n`);

  const [bare, aat] = await Promise.all([
    startServer("bare node:http server", "./bare-server.ts", bareEnv, cleanups),
    startServer("aat node runtime (api, redis + nats)", "./aat-server.ts", aatEnv, cleanups),
  ]);
  await load(bare, WARMUP_SECONDS, "warm-bare");
  await load(aat, WARMUP_SECONDS, "warm-aat");
  const rates = new Map<Server, number[]>([
    [bare, []],
    [aat, []],
  ]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [bare, aat] : [aat, bare];
    for (const server of order) rates.get(server)!.push(await load(server, ROUND_SECONDS, `r${round}`));
  }

  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const bareRate = mean(rates.get(bare)!);
  const aatRate = mean(rates.get(aat)!);
  console.log("| server | requests/s (mean of rounds) | rounds |");
  console.log("|---|---:|---|");
  for (const [server, values] of rates) {
    console.log(`| ${server.name} | ${fmt(mean(values), 0)} | ${values.map((v) => fmt(v, 0)).join(", ")} |`);
  }
  const ratio = aatRate / bareRate;
  console.log(`\nratio (aat ÷ bare server): ${fmt(ratio, 2)}`);
  console.log(`goal ≥ ${GOAL}: ${ratio >= GOAL ? "met" : "not met"}`);
}

runBench("bench/ingest", 110_000, main);
