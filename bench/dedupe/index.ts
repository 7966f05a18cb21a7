/**
 * bench/dedupe: the DedupeService on Redis next to AWS Powertools idempotency (makeIdempotent with its
 * cache persistence layer on the same Redis), in the same run: time per first call (claim, run the
 * function, store its result) and per duplicate (the stored result returned). Calls alternate one by
 * one between the two so that load from elsewhere hits both alike; the median round is shown, and the
 * median of the per-round ratios (each round's two figures were measured under the same load).
 *
 *   npm run bench:dedupe      (CALLS=500 per round, ROUNDS=21)
 */
import { deleteNamespace } from "@aat/adapter-redis";
import { Redis } from "ioredis";
import { deleteKeys, REDIS_URL, runSuffix } from "../lib/backends.js";
import { type Cleanups, runBench } from "../lib/deadline.js";
import { fmt, machine } from "../lib/measure.js";
import { dedupeOnRedis, type Idempotent } from "./ours.js";
import { powertoolsOnRedis } from "./powertools.js";

const CALLS = Number(process.env.CALLS ?? 500);
/** Rounds take well under a second each; with 5, one disturbed round moved the median (load from elsewhere). */
const ROUNDS = Number(process.env.ROUNDS ?? 21);
/** The timed rounds stop starting after this long (the watchdog stops everything at 110 s). */
const ROUNDS_BUDGET_MS = 75_000;

interface Payload {
  orderId: string;
  amount: number;
  customer: { id: string; tier: string };
}

/** Times the function really ran: a duplicate must not run it. */
let executions = 0;
/** The function made idempotent: as cheap as possible, so the idempotency layer is what is timed. */
const work = async (payload: Payload) => {
  executions++;
  return { accepted: true, orderId: payload.orderId };
};

function payloads(tag: string, round: number): Payload[] {
  return Array.from({ length: CALLS }, (_, i) => ({
    orderId: `${tag}-${round}-${i}`,
    amount: 100 + i,
    customer: { id: `c-${i % 97}`, tier: i % 2 ? "gold" : "basic" },
  }));
}

/** Calls `call` for each payload, one call after the other. */
async function callAll(call: Idempotent<Payload, unknown>, batch: Payload[]): Promise<void> {
  for (const payload of batch) await call(payload);
}

async function main(cleanups: Cleanups) {
  const suffix = runSuffix();
  const oursPrefix = `aat-bench-dedupe-${suffix}`;
  const powertoolsPrefix = `aat-bench-powertools-${suffix}`;
  const redis = new Redis(REDIS_URL);
  cleanups.add(async () => redis.disconnect());
  cleanups.add(() => deleteNamespace(redis, oursPrefix));
  cleanups.add(() => deleteKeys(redis, powertoolsPrefix));
  console.log(
    `bench/dedupe — DedupeService on Redis vs AWS Powertools idempotency (cache persistence layer) on the same Redis; ` +
      `up to ${ROUNDS} rounds of ${CALLS} first calls and ${CALLS} duplicates each, one call at a time`,
  );
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`server: ${REDIS_URL}\n`);

  const ours = await dedupeOnRedis(REDIS_URL, oursPrefix, work);
  cleanups.add(ours.close);
  const powertools = await powertoolsOnRedis(REDIS_URL, powertoolsPrefix, work);
  cleanups.add(powertools.close);
  const contenders = [
    { name: "aat DedupeService (ioredis)", call: ours.call },
    { name: "Powertools idempotency, cache layer (node-redis)", call: powertools.call },
  ];

  // Warm-up, and a check that both really deduplicate: a duplicate returns the first call's result
  // without running the function.
  for (const [i, { name, call }] of contenders.entries()) {
    const warm = payloads(`warm${i}`, -1);
    await callAll(call, warm);
    const ran = executions;
    await callAll(call, warm);
    const again = await call(warm[0]!);
    if (executions !== ran) throw new Error(`${name}: a duplicate ran the function again`);
    if (JSON.stringify(again) !== JSON.stringify({ accepted: true, orderId: warm[0]!.orderId })) {
      throw new Error(`${name}: a duplicate did not return the stored result (${JSON.stringify(again)})`);
    }
  }

  // Calls alternate one by one (who goes first alternating too), so that load from elsewhere on the
  // machine hits both alike; each call is timed on its own.
  const firsts: number[][] = contenders.map(() => []);
  const duplicates: number[][] = contenders.map(() => []);
  // CPU time of this process per call (client side only; Redis's own time is not in it).
  const cpuMicros = [contenders.map(() => 0), contenders.map(() => 0)] as const;
  const roundsStart = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    // On a loaded machine, fewer rounds rather than past the watchdog: start one only if it fits.
    const elapsed = Date.now() - roundsStart;
    if (round > 0 && elapsed + elapsed / round > ROUNDS_BUDGET_MS) break;
    const batches = contenders.map((_, i) => payloads(`c${i}`, round));
    for (const series of [firsts, duplicates]) {
      const spent = contenders.map(() => 0n);
      for (let call = 0; call < CALLS; call++) {
        for (const i of call % 2 === 0 ? [0, 1] : [1, 0]) {
          const start = process.hrtime.bigint();
          const cpuStart = process.cpuUsage();
          await contenders[i]!.call(batches[i]![call]!);
          const cpu = process.cpuUsage(cpuStart);
          spent[i]! += process.hrtime.bigint() - start;
          cpuMicros[series === firsts ? 0 : 1][i]! += cpu.user + cpu.system;
        }
      }
      for (const [i, ns] of spent.entries()) series[i]!.push(Number(ns) / 1e3 / CALLS);
    }
  }

  const roundsRun = firsts[0]!.length;
  const cpuPerCall = (micros: number) => fmt(micros / (roundsRun * CALLS), 0);
  console.log(
    "| implementation | µs per first call | µs per duplicate | client CPU µs per first call | per duplicate |",
  );
  console.log("|---|---:|---:|---:|---:|");
  contenders.forEach(({ name }, i) => {
    console.log(
      `| ${name} | ${fmt(median(firsts[i]!), 1)} | ${fmt(median(duplicates[i]!), 1)} | ${cpuPerCall(cpuMicros[0][i]!)} | ${cpuPerCall(cpuMicros[1][i]!)} |`,
    );
  });
  const firstRatio = median(firsts[1]!) / median(firsts[0]!);
  const duplicateRatio = median(duplicates[1]!) / median(duplicates[0]!);
  console.log(
    `\n${roundsRun} rounds (µs, aat / Powertools): first calls ${rounds(firsts)}; duplicates ${rounds(duplicates)}`,
  );
  console.log(
    `ratios (Powertools time ÷ aat time, above 1 means aat is faster): first call ${fmt(firstRatio, 2)}×; duplicate ${fmt(duplicateRatio, 2)}×`,
  );
  const pairedRatio = (series: number[][]) => median(series[1]!.map((value, i) => value / series[0]![i]!));
  console.log(
    `median of the per-round ratios: first call ${fmt(pairedRatio(firsts), 2)}×; duplicate ${fmt(pairedRatio(duplicates), 2)}×`,
  );
  console.log(
    `goal no slower than Powertools: first call ${firstRatio >= 1 ? "met" : "not met"}, duplicate ${duplicateRatio >= 1 ? "met" : "not met"}`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function rounds(series: number[][]): string {
  return series[0]!.map((value, i) => `${fmt(value, 0)}/${fmt(series[1]![i]!, 0)}`).join(", ");
}

runBench("bench/dedupe", 110_000, main);
