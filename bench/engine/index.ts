/**
 * bench/engine: microseconds per step for a chain of 100 `set` steps, ours (checkpointing every step
 * to the run's event log on the memory adapters) against LangGraph JS (a StateGraph of the same 100
 * nodes with its MemorySaver checkpointer), measured in the same process and run.
 *
 *   npm run bench:engine            (RUNS=200 by default)
 */
import { fmt, machine } from "../lib/measure.js";
import { buildLangGraphChain } from "./langgraph.js";
import { buildOurChain, chainPlan } from "./ours.js";

const STEPS = 100;
const RUNS = Number(process.env.RUNS ?? 200);
const WARMUP = Math.max(10, Math.round(RUNS / 10));
/**
 * Before it is measured, each engine warms up on a throwaway instance for at least this long. Warm-up
 * by run count alone is uneven: 20 LangGraph runs take about a second, 20 of ours about 10 ms, too
 * short for V8 to finish optimising the hot code, so whichever engine ran first would be measured
 * partly unoptimised. The same time for both makes the comparison about steady-state cost.
 */
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1000);
/**
 * Each figure is the median of this many timed windows, so one burst of load from another process on
 * a shared machine does not decide the result; every window is printed. A window must hold enough
 * steps to include its share of garbage collection: LangGraph's RUNS are split into the windows (each
 * about 2 s), ours runs RUNS per window (each about 0.1 s, several young-generation collections).
 */
const WINDOWS = 5;
const GOAL = 100;

async function main() {
  console.log(
    `bench/engine — ${STEPS}-step chain; per engine: ≥ ${WARMUP_MS} ms warm-up on a throwaway instance, then a fresh instance, ${WARMUP} untimed runs and the median of ${WINDOWS} timed windows (LangGraph ${RUNS / WINDOWS} runs per window, ours ${RUNS})`,
  );
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}\n`);

  const theirsUs = await langGraphPerStep();
  const rows: Array<[string, number]> = [["LangGraph JS 1.x (MemorySaver), n = n + 1 in JS", theirsUs]];
  rows.push(["aat (event log checkpoint), n = n + 1 in JSONata", await oursPerStep("computed")]);
  rows.push(["aat (event log checkpoint), literal values", await oursPerStep("static")]);

  console.log("| engine | µs per step | LangGraph ÷ this |");
  console.log("|---|---:|---:|");
  for (const [label, us] of rows) console.log(`| ${label} | ${fmt(us, 2)} | ${fmt(theirsUs / us, 1)}× |`);
  const computed = theirsUs / rows[1]![1];
  console.log(
    `\nratio (computed steps): ours is ${fmt(computed, 1)}× faster per step than LangGraph JS; goal ≥ ${GOAL}× — ${computed >= GOAL ? "met" : "not met"}`,
  );
}

/*
 * Each engine is built and measured inside its own function, so its stores (LangGraph's MemorySaver
 * holds every checkpoint of every thread, ~190 MB after 260 runs) are garbage once it is measured, and
 * a full collection runs before the next engine starts (`--expose-gc` in the npm script), ahead of its
 * warm-up: no engine pays for collecting another's garbage.
 */

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function langGraphPerStep(): Promise<number> {
  await warmUp(() => buildLangGraphChain(STEPS));
  const langgraph = buildLangGraphChain(STEPS);
  const check = await langgraph("check");
  if (check !== STEPS) throw new Error(`LangGraph chain computed ${check}, expected ${STEPS}`);
  return medianPerStep("LangGraph JS + MemorySaver", Math.max(1, Math.round(RUNS / WINDOWS)), (i) =>
    langgraph(`t${i}`),
  );
}

async function oursPerStep(mode: "computed" | "static"): Promise<number> {
  await warmUp(() => buildOurChain(chainPlan(STEPS, mode)));
  const ours = buildOurChain(chainPlan(STEPS, mode));
  const out = (await ours("check")) as { n: number };
  if (out.n !== STEPS) throw new Error(`our ${mode} chain computed ${out.n}, expected ${STEPS}`);
  return medianPerStep(`aat ${mode}`, RUNS, (i) => ours(`r${i}`));
}

/**
 * µs per step: the median over WINDOWS timed windows of `runs` runs each, after WARMUP untimed runs.
 * Timed here rather than with measure(), which collects garbage before it times: a forced full
 * collection shrinks V8's young generation, so the window after it would run with more frequent
 * collections than the steady state it is meant to show.
 */
async function medianPerStep(
  label: string,
  runs: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn(-1 - i);
  const perStep: number[] = [];
  for (let window = 0; window < WINDOWS; window++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await fn(window * runs + i);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    perStep.push((ms * 1000) / (runs * STEPS));
  }
  const sorted = [...perStep].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(
    `${label}: µs per step by window ${perStep.map((us) => fmt(us, 2)).join(", ")}; median ${fmt(median, 2)}`,
  );
  return median;
}

/**
 * Run a throwaway instance of the engine for at least WARMUP_MS, so V8 has optimised its code, then
 * collect it: the instance that is measured starts with an empty store, as the other engine's does,
 * instead of with everything the warm-up stored (a second of our steps is ~100 MB of event log).
 */
async function warmUp(build: () => (runId: string) => Promise<unknown>): Promise<void> {
  collectGarbage();
  const engine = build();
  const until = performance.now() + WARMUP_MS;
  for (let i = 0; performance.now() < until; i++) await engine(`w${i}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
