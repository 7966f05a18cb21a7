/**
 * bench/e2e: runs per second of a 5-step plan (a parallel pair of stub tools, a branch, a set and a
 * stub action) on the embedded default, an SQLite file for both the KeyValue store and the queue,
 * through the Runner and a Worker (no HTTP). Baselines measured in the same run:
 * - the same plan on the in-process memory adapters (the engine with free storage);
 * - two SQLite floors, with no engine at all: the same number of single-row writes and reads per run,
 *   once grouped into transactions as the engine's were (group commit, background checkpoints) and once
 *   with every write its own transaction (what each KV and queue call cost before group commit).
 *
 *   npm run bench:e2e          (RUNS=5000 by default)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { openSqlite, SqliteKeyValue, SqliteQueue } from "@aat/adapter-sqlite";
import type { WorkMessage } from "@aat/core";
import { fmt, machine } from "../lib/measure.js";
import { countingStores } from "./counting.js";
import { measureGroupedFloor, measureSqliteFloor } from "./sqlite-floor.js";
import { measureThroughput } from "./throughput.js";

const RUNS = Number(process.env.RUNS ?? 5000);
const WARMUP = Math.max(200, Math.round(RUNS / 10));
const START_CONCURRENCY = Number(process.env.START_CONCURRENCY ?? 64);
const WORKER_CONCURRENCY = Number(process.env.WORKER_CONCURRENCY ?? 64);
const GOAL = 2200;

function sqliteStores(dir: string, name: string) {
  const db = openSqlite(join(dir, `${name}.sqlite`));
  const kv = new SqliteKeyValue(db);
  const queue = new SqliteQueue<WorkMessage>(db, { name: "steps" });
  return {
    db,
    kv,
    queue,
    close: async () => {
      await queue.close();
      await kv.close();
      db.close();
    },
  };
}

function memoryStores() {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({ name: `bench-${crypto.randomUUID()}` });
  return { kv, queue, close: async () => Promise.all([queue.close(), kv.close()]) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "aat-bench-e2e-"));
  const options = { startConcurrency: START_CONCURRENCY, workerConcurrency: WORKER_CONCURRENCY };
  console.log(
    `bench/e2e — 5-step plan (parallel pair of stub tools, branch, set, stub action), ${RUNS} runs after ${WARMUP} warm-up runs; ${START_CONCURRENCY} starts and ${WORKER_CONCURRENCY} steps in flight`,
  );
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}\n`);
  try {
    // How many statements one run costs, counted on a separate file (the counting adds overhead).
    const counted = sqliteStores(dir, "count");
    const wrapped = countingStores(counted.kv, counted.queue);
    let perRun = { writes: 0, reads: 0 };
    await measureThroughput({
      ...options,
      kv: wrapped.kv,
      queue: wrapped.queue,
      runs: 500,
      onTimed: () => {
        perRun = { writes: wrapped.counts.writes / 500, reads: wrapped.counts.reads / 500 };
      },
    });
    await counted.close();

    const sqlite = sqliteStores(dir, "engine");
    await measureThroughput({ ...options, kv: sqlite.kv, queue: sqlite.queue, runs: WARMUP });
    const commitsBefore = sqlite.db.commitStats;
    const ours = await measureThroughput({ ...options, kv: sqlite.kv, queue: sqlite.queue, runs: RUNS });
    const commitsAfter = sqlite.db.commitStats;
    const transactions = commitsAfter.transactions - commitsBefore.transactions;
    const grouping = {
      transactionsPerRun: transactions / RUNS,
      operationsPerTransaction: (commitsAfter.operations - commitsBefore.operations) / transactions,
    };
    await sqlite.close();

    const memory = memoryStores();
    await measureThroughput({ ...options, kv: memory.kv, queue: memory.queue, runs: WARMUP });
    const onMemory = await measureThroughput({ ...options, kv: memory.kv, queue: memory.queue, runs: RUNS });
    await memory.close();

    const groupedDb = openSqlite(join(dir, "floor-grouped.sqlite"));
    await measureGroupedFloor(groupedDb, WARMUP, perRun, grouping.operationsPerTransaction);
    const grouped = await measureGroupedFloor(groupedDb, RUNS, perRun, grouping.operationsPerTransaction);
    groupedDb.close();

    const floorDb = openSqlite(join(dir, "floor.sqlite"));
    measureSqliteFloor(floorDb, WARMUP, perRun);
    const floor = measureSqliteFloor(floorDb, RUNS, perRun);
    floorDb.close();

    console.log(
      `statements per run on SQLite: ${fmt(perRun.writes, 1)} writes, ${fmt(perRun.reads, 1)} reads; ` +
        `group commit ran them in ${fmt(grouping.transactionsPerRun, 2)} write transactions per run ` +
        `(${fmt(grouping.operationsPerTransaction, 0)} operations per transaction)\n`,
    );
    console.log("| setup | runs/s | ms for all runs |");
    console.log("|---|---:|---:|");
    console.log(
      `| aat on SQLite (KV + queue in one file), Runner + Worker | ${fmt(ours.runsPerSecond, 0)} | ${fmt(ours.ms, 0)} |`,
    );
    console.log(
      `| aat on memory adapters (baseline: engine with free storage) | ${fmt(onMemory.runsPerSecond, 0)} | ${fmt(onMemory.ms, 0)} |`,
    );
    console.log(
      `| SQLite floor, grouped as the engine's: the same writes and reads per run, no engine (baseline) | ${fmt(grouped.runsPerSecond, 0)} | ${fmt(grouped.ms, 0)} |`,
    );
    console.log(
      `| SQLite floor, one transaction per write, no engine (baseline) | ${fmt(floor.runsPerSecond, 0)} | ${fmt(floor.ms, 0)} |`,
    );
    console.log(
      `\nratios: SQLite ÷ memory = ${fmt(ours.runsPerSecond / onMemory.runsPerSecond, 2)}; ` +
        `SQLite ÷ grouped floor = ${fmt(ours.runsPerSecond / grouped.runsPerSecond, 2)}; ` +
        `SQLite ÷ one-transaction-per-write floor = ${fmt(ours.runsPerSecond / floor.runsPerSecond, 2)}`,
    );
    console.log(
      `goal ≥ ${GOAL} runs/s on the embedded default: ${fmt(ours.runsPerSecond, 0)} runs/s — ${ours.runsPerSecond >= GOAL ? "met" : "not met"}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
