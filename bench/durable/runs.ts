import {
  createRunner,
  type KeyValue,
  KvPlanRepository,
  type Queue,
  type RunEvent,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { DURABLE_PLAN, durableTools, LAST_STEP } from "./plan.js";

export interface RunsOptions {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  runs: number;
  /** Runs in flight at once: 1 measures the latency of a step, more the throughput. */
  inFlight: number;
  /** Messages the worker handles at once. */
  workerConcurrency: number;
  /** No run is started after this long, so a slow or loaded machine still finishes in bounded time. */
  budgetMs: number;
}

export interface RunsResult {
  /** Runs finished (fewer than asked when the budget ran out). */
  runs: number;
  ms: number;
}

/**
 * Runs `runs` runs of the ten-step plan through a Runner and a Worker on the given stores, `inFlight`
 * at a time, each started as the previous one in its slot finished. Times from the first start until
 * the last run's last step succeeded, then checks every run succeeded.
 */
export async function timeRuns(options: RunsOptions): Promise<RunsResult> {
  const { kv, queue, runs } = options;
  const tools = durableTools();
  const plans = new KvPlanRepository(kv, { tools });
  await plans.publish(DURABLE_PLAN);
  // A run's end may be seen before its start call returns, so either side creates the entry.
  const ends = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const endOf = (runId: string) => {
    let end = ends.get(runId);
    if (!end) {
      let resolve: () => void = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      end = { promise, resolve };
      ends.set(runId, end);
    }
    return end;
  };
  let failure: string | undefined;
  const onEvent = (runId: string, _seq: number, event: RunEvent) => {
    if (event.type === "step.succeeded" && event.key === LAST_STEP) {
      endOf(runId).resolve();
    } else if (event.type === "step.failed" || event.type === "step.dead_lettered") {
      failure ??= `run ${runId}: step ${event.key} ${event.type}: ${JSON.stringify(event)}`;
      endOf(runId).resolve();
    }
  };
  const runner = createRunner({ kv, queue, plans, services: { tools }, onEvent });
  const worker = new Worker(runner, queue, { concurrency: options.workerConcurrency, pollWaitMs: 200 });
  const runIds: string[] = [];
  worker.start();
  const started = process.hrtime.bigint();
  const stopStartingAt = started + BigInt(options.budgetMs) * 1_000_000n;
  let next = 0;
  const slot = async () => {
    while (next < runs && failure === undefined && process.hrtime.bigint() < stopStartingAt) {
      const n = next++;
      const { runId } = await runner.start({ planId: "bench.durable", input: { n } });
      runIds.push(runId);
      await endOf(runId).promise;
      ends.delete(runId);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, slot));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await worker.stop();
  if (failure) throw new Error(`benchmark run failed: ${failure}`);
  for (const runId of runIds) {
    const state = await runner.load(runId);
    if (state?.status !== "succeeded") throw new Error(`run ${runId} ended ${state?.status ?? "missing"}`);
  }
  return { runs: runIds.length, ms };
}
