import {
  createRunner,
  type KeyValue,
  KvPlanRepository,
  type Queue,
  type RunEvent,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { benchTools, E2E_PLAN, LAST_STEP } from "./plan.js";

export interface ThroughputOptions {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  runs: number;
  /** Runs being started at once by the producer. */
  startConcurrency: number;
  /** Messages the worker handles at once. */
  workerConcurrency: number;
  /** Called when the clock stops, before the runs are checked (which reads storage too). */
  onTimed?: () => void;
}

export interface ThroughputResult {
  runs: number;
  ms: number;
  runsPerSecond: number;
  runIds: string[];
}

/**
 * Starts `runs` runs of the benchmark plan through the Runner (as the API does: the plan looked up in
 * the KV plan store, the input checked) while a Worker executes their tool steps from the queue, and
 * times from the first start until the last run's final step succeeded.
 */
export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { kv, queue, runs } = options;
  const tools = benchTools();
  const plans = new KvPlanRepository(kv, { tools });
  await plans.publish(E2E_PLAN);
  let finished = 0;
  let failure: string | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const onEvent = (runId: string, _seq: number, event: RunEvent) => {
    if (event.type === "step.succeeded" && event.key === LAST_STEP) {
      if (++finished === runs) resolveDone();
    } else if (event.type === "step.failed" || event.type === "step.dead_lettered") {
      failure ??= `run ${runId}: step ${event.key} ${event.type}`;
      resolveDone();
    }
  };
  const runner = createRunner({ kv, queue, plans, services: { tools }, onEvent });
  const worker = new Worker(runner, queue, { concurrency: options.workerConcurrency, pollWaitMs: 50 });
  const runIds: string[] = [];

  const started = process.hrtime.bigint();
  worker.start();
  let next = 0;
  const producer = async () => {
    while (next < runs) {
      const n = next++;
      const { runId } = await runner.start({ planId: "bench.e2e", input: { n } });
      runIds.push(runId);
    }
  };
  await Promise.all(Array.from({ length: options.startConcurrency }, producer));
  await done;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  options.onTimed?.();
  await worker.stop();
  if (failure) throw new Error(`benchmark run failed: ${failure}`);

  // Outside the timing: every run really finished with the right output.
  for (const runId of runIds) {
    const state = await runner.load(runId);
    if (state?.status !== "succeeded") throw new Error(`run ${runId} ended ${state?.status ?? "missing"}`);
  }
  return { runs, ms, runsPerSecond: (runs * 1000) / ms, runIds };
}
