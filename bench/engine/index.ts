/**
 * bench/engine: microseconds per step for a chain of 100 `set` steps, ours (checkpointing every step
 * to the run's event log on the memory adapters) against LangGraph JS (a StateGraph of the same 100
 * nodes with its MemorySaver checkpointer), measured in the same process and run.
 *
 *   npm run bench:engine            (RUNS=200 by default)
 */
import { fmt, machine, measure } from "../lib/measure.js";
import { buildLangGraphChain } from "./langgraph.js";
import { buildOurChain, chainPlan } from "./ours.js";

const STEPS = 100;
const RUNS = Number(process.env.RUNS ?? 200);
const WARMUP = Math.max(10, Math.round(RUNS / 10));
/**
 * Each engine also runs untimed for at least this long before it is measured. Warm-up by count alone
 * is uneven: 20 LangGraph runs take about a second, 20 of ours about 10 ms, too short for V8 to finish
 * optimising the hot code on a busy machine, so whichever engine runs first would be measured partly
 * unoptimised. The same time for both makes the comparison about steady-state cost.
 */
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1000);
const GOAL = 100;

async function main() {
  console.log(
    `bench/engine — ${STEPS}-step chain, ${RUNS} runs each after ${WARMUP} warm-up runs and at least ${WARMUP_MS} ms of warm-up`,
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
 * holds every checkpoint of every thread) are garbage once it is measured: the next engine's
 * measurement does not pay for garbage-collecting (marking) data it never created.
 */

async function langGraphPerStep(): Promise<number> {
  const langgraph = buildLangGraphChain(STEPS);
  const check = await langgraph("check");
  if (check !== STEPS) throw new Error(`LangGraph chain computed ${check}, expected ${STEPS}`);
  await warmUp((i) => langgraph(`w${i}`));
  const m = await measure("LangGraph JS + MemorySaver", RUNS, WARMUP, (i) =>
    langgraph(`t${i}`).then(() => {}),
  );
  return (m.totalMs * 1000) / (RUNS * STEPS);
}

async function oursPerStep(mode: "computed" | "static"): Promise<number> {
  const ours = buildOurChain(chainPlan(STEPS, mode));
  const out = (await ours("check")) as { n: number };
  if (out.n !== STEPS) throw new Error(`our ${mode} chain computed ${out.n}, expected ${STEPS}`);
  await warmUp((i) => ours(`w${i}`));
  const m = await measure(`aat ${mode}`, RUNS, WARMUP, (i) => ours(`r${i}`).then(() => {}));
  return (m.totalMs * 1000) / (RUNS * STEPS);
}

/** Run `fn` untimed for at least WARMUP_MS. */
async function warmUp(fn: (i: number) => Promise<unknown>): Promise<void> {
  const until = performance.now() + WARMUP_MS;
  for (let i = 0; performance.now() < until; i++) await fn(i);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
