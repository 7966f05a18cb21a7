/**
 * Profiling aid for bench/ingest (not part of `npm run bench`): starts one server (aat by default,
 * SERVER=bare for the baseline) with `node --cpu-prof`, loads it with autocannon for SECONDS, stops it
 * so the profile is written to PROF_DIR, and prints the rate. Summarise the .cpuprofile with
 * bench/ingest/profile-summary.ts.
 *
 *   PROF_DIR=/tmp/prof npx tsx bench/ingest/profile.ts
 */
import { execFileSync, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { NatsQueue } from "@aat/adapter-nats";
import { deleteNamespace } from "@aat/adapter-redis";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { deleteKeys, deleteStream, NATS_URL, REDIS_URL, runSuffix } from "../lib/backends.js";
import { readyMessage, signedRequests } from "./protocol.js";

const SECONDS = Number(process.env.SECONDS ?? 10);
/** Load before the measured window, so lazily loaded modules and JIT warm-up are not counted per request. */
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 3);
const SERVER = process.env.SERVER ?? "aat";
const PROF_DIR = process.env.PROF_DIR;
const suffix = runSuffix();
const env = {
  BENCH_REDIS_URL: REDIS_URL,
  BENCH_NATS_URL: NATS_URL,
  BENCH_KEY_PREFIX: `aat-bench-prof-${suffix}`,
  BENCH_STREAM: `AAT_BENCH_PROF_${suffix}`,
};
const child = fork(fileURLToPath(new URL(`./${SERVER}-server.ts`, import.meta.url)), [], {
  execArgv: [
    "--import",
    "tsx",
    ...(PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROF_DIR}`] : []),
    // Extra node/V8 flags for the server, e.g. NODE_ARGS="--trace-deopt" (space-separated).
    ...(process.env.NODE_ARGS?.split(" ").filter(Boolean) ?? []),
  ],
  env: { ...process.env, ...env, AAT_LOG_LEVEL: process.env.AAT_LOG_LEVEL ?? "info" },
  stdio: ["ignore", process.env.SERVER_STDOUT ? "inherit" : "ignore", "inherit", "ipc"],
});
const url = await new Promise<string>((resolve) =>
  child.on("message", (m) => {
    const ready = readyMessage.safeParse(m);
    if (ready.success) resolve(ready.data.url);
  }),
);
/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const pidOf = (name: string) => {
  try {
    return Number(execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).split("\n")[0]);
  } catch {
    return undefined;
  }
};
const watched = {
  server: child.pid!,
  redis: Number(process.env.REDIS_PID) || pidOf("redis-server"),
  nats: pidOf("nats-server"),
};
const load = (duration: number) =>
  autocannon({
    url,
    method: "POST",
    connections: 32,
    duration,
    requests: [{ setupRequest: signedRequests(`p-${process.pid}`) }],
  });
if (WARMUP_SECONDS > 0) await load(WARMUP_SECONDS);
const loadBefore = process.cpuUsage();
const before = Object.fromEntries(
  Object.entries(watched).map(([name, pid]) => [name, pid ? cpuSeconds(pid) : 0]),
);
const result = await load(SECONDS);
console.log(
  `${SERVER}: ${(result["2xx"] / result.duration).toFixed(0)} req/s, non2xx ${result.non2xx}, errors ${result.errors}`,
);
const loadUsage = process.cpuUsage(loadBefore);
const cpu = Object.entries(watched)
  .map(([name, pid]) => {
    const used = pid ? cpuSeconds(pid) - before[name]! : 0;
    return `${name} ${((used * 1e6) / result["2xx"]).toFixed(0)} µs`;
  })
  .join(", ");
const loadCpu = ((loadUsage.user + loadUsage.system) / result["2xx"]).toFixed(0);
console.log(`CPU per request: ${cpu}, load generator (autocannon) ${loadCpu} µs`);
await new Promise<void>((resolve) => {
  child.once("exit", () => resolve());
  child.kill("SIGTERM");
});
const redis = new Redis(REDIS_URL);
await deleteNamespace(redis, env.BENCH_KEY_PREFIX);
await deleteKeys(redis, env.BENCH_KEY_PREFIX);
redis.disconnect();
await NatsQueue.destroy({ servers: NATS_URL, stream: env.BENCH_STREAM }).catch(() => undefined);
await deleteStream(env.BENCH_STREAM).catch(() => undefined);
