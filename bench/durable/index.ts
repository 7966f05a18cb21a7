/**
 * bench/durable: steps per second and µs per step of a ten-step plan (ten tool steps in a chain) on
 * the on-prem backends, NATS JetStream for the step queue and Redis for the KeyValue store (the real
 * adapters, through createRunner and a Worker), next to the raw cost of the same number of round trips
 * measured in the same run: a sequential Redis SET NX PX per KeyValue call, a JetStream publish with
 * its ack per queue publish or acknowledgement.
 *
 * Rounds alternate the raw operations and aat (each phase with a time budget), and the median round's
 * ratios are reported, so that load from other processes hits both alike.
 *
 *   npm run bench:durable      (ROUNDS=3; RUNS=100 one at a time, CONCURRENT_RUNS=400 with IN_FLIGHT=32, in all)
 */
import { NatsQueue } from "@aat/adapter-nats";
import { deleteNamespace, RedisKeyValue } from "@aat/adapter-redis";
import type { WorkMessage } from "@aat/core";
import { Redis } from "ioredis";
import {
  concurrentRate,
  deleteKeys,
  NATS_URL,
  RawJetStream,
  REDIS_URL,
  redisSetNx,
  runSuffix,
  sequentialMicros,
} from "../lib/backends.js";
import { type Cleanups, runBench } from "../lib/deadline.js";
import { fmt, machine } from "../lib/measure.js";
import { type CallCounts, countingStores, total } from "./counting.js";
import { STEPS } from "./plan.js";
import { timeRuns } from "./runs.js";

const RUNS = Number(process.env.RUNS ?? 100);
const CONCURRENT_RUNS = Number(process.env.CONCURRENT_RUNS ?? 400);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 32);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const GOAL = 3;
/** Queue calls that are a round trip to JetStream awaiting the server's answer (receive is a waiting pull). */
const NATS_ROUND_TRIPS = ["publish", "ack", "nack", "extendLease", "deadLetter"] as const;
/** A step message is about this large; the raw publishes carry as much. */
const RAW_BODY = new TextEncoder().encode(JSON.stringify({ kind: "step", runId: crypto.randomUUID() }));

async function main(cleanups: Cleanups) {
  const suffix = runSuffix();
  const prefix = `aat-bench-durable-${suffix}`;
  const stream = `AAT_BENCH_DURABLE_${suffix}`;
  const rawStream = `AAT_BENCH_RAW_${suffix}`;
  const redis = new Redis(REDIS_URL);
  cleanups.add(async () => redis.disconnect());
  cleanups.add(() => deleteKeys(redis, prefix));
  cleanups.add(() => deleteNamespace(redis, prefix));
  cleanups.add(() => NatsQueue.destroy({ servers: NATS_URL, stream }));
  console.log(
    `bench/durable — ${STEPS} tool steps in a chain on NATS JetStream (queue) + Redis (KeyValue); ` +
      `${ROUNDS} rounds of up to ${Math.ceil(RUNS / ROUNDS)} runs one at a time and ${Math.ceil(CONCURRENT_RUNS / ROUNDS)} runs ${IN_FLIGHT} at a time, each next to its raw round trips`,
  );
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`servers: ${REDIS_URL}, ${NATS_URL}\n`);
  const kv = await RedisKeyValue.connect({ url: REDIS_URL, keyPrefix: prefix });
  cleanups.add(() => kv.close());
  const queue = await NatsQueue.connect<WorkMessage>({
    servers: NATS_URL,
    stream,
    subject: `${stream.toLowerCase()}.steps`,
    connectionName: `aat-bench-durable-${suffix}`,
  });
  cleanups.add(() => queue.close());
  const raw = await RawJetStream.open(rawStream);
  cleanups.add(() => raw.close());

  // Round trips per step, counted on the real stores (the counting adds a little, so it is not timed).
  const counted = countingStores(kv, queue);
  const countedRuns = await timeRuns({
    kv: counted.kv,
    queue: counted.queue,
    runs: 20,
    inFlight: 1,
    workerConcurrency: 8,
    budgetMs: 10_000,
  });
  const countedSteps = countedRuns.runs * STEPS;
  const redisPerStep = total(counted.counts, "kv") / countedSteps;
  const natsPerStep = total(counted.counts, "queue", NATS_ROUND_TRIPS) / countedSteps;
  console.log(`calls per step: ${describeCounts(counted.counts, countedSteps)}`);
  console.log(
    `= ${fmt(redisPerStep, 2)} Redis round trips and ${fmt(natsPerStep, 2)} JetStream round trips per step\n`,
  );

  // Rounds alternate the raw round trips and aat, so that load from elsewhere on the machine hits both
  // alike; each ratio is taken within its round and the median round is reported.
  const setNx = redisSetNx(redis, prefix, JSON.stringify({ status: "in_progress", at: Date.now() }));
  const publish = () => raw.publish(RAW_BODY);
  const redisWhole = Math.round(redisPerStep);
  const natsWhole = Math.round(natsPerStep);
  const rawStep = async () => {
    for (let i = 0; i < redisWhole; i++) await setNx(i);
    for (let i = 0; i < natsWhole; i++) await publish();
  };
  const sequential = { kv, queue, inFlight: 1, workerConcurrency: 8 };
  const parallel = { kv, queue, inFlight: IN_FLIGHT, workerConcurrency: IN_FLIGHT };
  // Warm-up of both, untimed.
  await sequentialMicros(300, 0, 2_000, setNx);
  await sequentialMicros(150, 0, 2_000, publish);
  await timeRuns({ ...sequential, runs: 20, budgetMs: 4_000 });
  await timeRuns({ ...parallel, runs: IN_FLIGHT * 2, budgetMs: 4_000 });

  const rounds: Round[] = [];
  let sequentialRuns = 0;
  let parallelRuns = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const setNxMicros = await sequentialMicros(2000, 0, 1_500, setNx);
    const publishMicros = await sequentialMicros(1000, 0, 1_500, publish);
    const rawStepMicros = redisPerStep * setNxMicros + natsPerStep * publishMicros;
    const one = await timeRuns({ ...sequential, runs: Math.ceil(RUNS / ROUNDS), budgetMs: 6_000 });
    const stepMicros = (one.ms * 1000) / (one.runs * STEPS);
    const rawStepsPerSecond = await concurrentRate(CONCURRENT_RUNS * STEPS, IN_FLIGHT, 3_000, rawStep);
    const many = await timeRuns({ ...parallel, runs: Math.ceil(CONCURRENT_RUNS / ROUNDS), budgetMs: 6_000 });
    const stepsPerSecond = (many.runs * STEPS * 1000) / many.ms;
    sequentialRuns += one.runs;
    parallelRuns += many.runs;
    rounds.push({ setNxMicros, publishMicros, rawStepMicros, stepMicros, rawStepsPerSecond, stepsPerSecond });
  }
  console.log(
    `timed: ${ROUNDS} rounds, ${sequentialRuns} runs one at a time and ${parallelRuns} runs ${IN_FLIGHT} at a time in all\n`,
  );
  console.log(
    "| round | SET NX µs | publish µs | raw µs per step | aat µs per step | ratio | raw steps/s, 32 in flight | aat steps/s, 32 in flight | ratio |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const [i, r] of rounds.entries()) {
    console.log(
      `| ${i + 1} | ${fmt(r.setNxMicros, 0)} | ${fmt(r.publishMicros, 0)} | ${fmt(r.rawStepMicros, 0)} | ${fmt(r.stepMicros, 0)} | ${fmt(r.stepMicros / r.rawStepMicros, 2)}× | ${fmt(r.rawStepsPerSecond, 0)} | ${fmt(r.stepsPerSecond, 0)} | ${fmt(r.rawStepsPerSecond / r.stepsPerSecond, 2)}× |`,
    );
  }
  const ratio = median(rounds.map((r) => r.stepMicros / r.rawStepMicros));
  const concurrentRatio = median(rounds.map((r) => r.rawStepsPerSecond / r.stepsPerSecond));
  const stepMicros = median(rounds.map((r) => r.stepMicros));
  console.log(
    `\naat on NATS + Redis: ${fmt(stepMicros, 0)} µs per step one run at a time (${fmt(1e6 / stepMicros, 0)} steps/s), ` +
      `${fmt(median(rounds.map((r) => r.stepsPerSecond)), 0)} steps/s with ${IN_FLIGHT} runs in flight (medians of the rounds)`,
  );
  console.log(
    `ratio (time per step ÷ its raw round trips, median round): one run at a time ${fmt(ratio, 2)}×; ` +
      `${IN_FLIGHT} in flight ${fmt(concurrentRatio, 2)}×`,
  );
  console.log(
    `goal ≤ ${GOAL}× the raw round trips: ${ratio <= GOAL ? "met" : "not met"} one at a time, ` +
      `${concurrentRatio <= GOAL ? "met" : "not met"} in flight`,
  );
}

interface Round {
  setNxMicros: number;
  publishMicros: number;
  rawStepMicros: number;
  stepMicros: number;
  rawStepsPerSecond: number;
  stepsPerSecond: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function describeCounts(counts: CallCounts, steps: number): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${fmt(n / steps, 2)}`)
    .join(", ");
}

runBench("bench/durable", 110_000, main);
