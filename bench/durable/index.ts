/**
 * bench/durable: steps per second and µs per step of a ten-step plan (ten tool steps in a chain) on
 * the on-prem backends, NATS JetStream for the step queue and Redis for the KeyValue store (the real
 * adapters, through createRunner and a Worker), next to the raw cost of the same number of round trips
 * measured in the same run: a sequential Redis SET NX PX per KeyValue call, a JetStream publish with
 * its ack per queue publish or acknowledgement.
 *
 *   npm run bench:durable      (RUNS=100 sequential runs, CONCURRENT_RUNS=400 with IN_FLIGHT=32)
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
      `${RUNS} runs one at a time, then ${CONCURRENT_RUNS} runs ${IN_FLIGHT} at a time`,
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

  // Raw round trips, one at a time and at the same concurrency as the runs in flight.
  const setNx = redisSetNx(redis, prefix, JSON.stringify({ status: "in_progress", at: Date.now() }));
  const setNxMicros = await sequentialMicros(3000, 300, 5_000, setNx);
  const publishMicros = await sequentialMicros(1500, 150, 5_000, () => raw.publish(RAW_BODY));
  const rawStepMicros = redisPerStep * setNxMicros + natsPerStep * publishMicros;
  const redisWhole = Math.round(redisPerStep);
  const natsWhole = Math.round(natsPerStep);
  const rawStepsPerSecond = await concurrentRate(CONCURRENT_RUNS * STEPS, IN_FLIGHT, 8_000, async () => {
    for (let i = 0; i < redisWhole; i++) await setNx(i);
    for (let i = 0; i < natsWhole; i++) await raw.publish(RAW_BODY);
  });

  // aat: warm-up, then one run at a time (latency), then many in flight (throughput).
  const sequential = { kv, queue, inFlight: 1, workerConcurrency: 8 };
  await timeRuns({ ...sequential, runs: 20, budgetMs: 5_000 });
  const one = await timeRuns({ ...sequential, runs: RUNS, budgetMs: 20_000 });
  const stepMicros = (one.ms * 1000) / (one.runs * STEPS);
  const parallel = { kv, queue, inFlight: IN_FLIGHT, workerConcurrency: IN_FLIGHT };
  await timeRuns({ ...parallel, runs: IN_FLIGHT * 2, budgetMs: 5_000 });
  const many = await timeRuns({ ...parallel, runs: CONCURRENT_RUNS, budgetMs: 20_000 });
  const concurrentStepsPerSecond = (many.runs * STEPS * 1000) / many.ms;
  console.log(`timed: ${one.runs} runs one at a time, ${many.runs} runs ${IN_FLIGHT} at a time\n`);

  console.log("| what | µs per step | steps/s |");
  console.log("|---|---:|---:|");
  console.log(
    `| aat on NATS + Redis, one run at a time | ${fmt(stepMicros, 0)} | ${fmt(1e6 / stepMicros, 0)} |`,
  );
  console.log(
    `| raw round trips of a step, one at a time: ${fmt(redisPerStep, 2)} × SET NX (${fmt(setNxMicros, 0)} µs) + ${fmt(natsPerStep, 2)} × JetStream publish with ack (${fmt(publishMicros, 0)} µs) | ${fmt(rawStepMicros, 0)} | ${fmt(1e6 / rawStepMicros, 0)} |`,
  );
  console.log(
    `| aat on NATS + Redis, ${IN_FLIGHT} runs in flight | ${fmt(1e6 / concurrentStepsPerSecond, 0)} | ${fmt(concurrentStepsPerSecond, 0)} |`,
  );
  console.log(
    `| raw round trips of a step (${redisWhole} SET NX + ${natsWhole} publishes), ${IN_FLIGHT} in flight | ${fmt(1e6 / rawStepsPerSecond, 0)} | ${fmt(rawStepsPerSecond, 0)} |`,
  );
  const ratio = stepMicros / rawStepMicros;
  const concurrentRatio = rawStepsPerSecond / concurrentStepsPerSecond;
  console.log(
    `\nratio (time per step ÷ its raw round trips): one run at a time ${fmt(ratio, 2)}×; ` +
      `${IN_FLIGHT} in flight ${fmt(concurrentRatio, 2)}×`,
  );
  console.log(
    `goal ≤ ${GOAL}× the raw round trips: ${ratio <= GOAL ? "met" : "not met"} one at a time, ` +
      `${concurrentRatio <= GOAL ? "met" : "not met"} in flight`,
  );
}

function describeCounts(counts: CallCounts, steps: number): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${fmt(n / steps, 2)}`)
    .join(", ");
}

runBench("bench/durable", 110_000, main);
