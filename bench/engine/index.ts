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
const GOAL = 100;

async function main() {
  console.log(`bench/engine — ${STEPS}-step chain, ${RUNS} runs each after ${WARMUP} warm-up runs`);
  console.log(`machine: ${machine()}`);
  console.log(`date: ${new Date().toISOString()}\n`);

  const langgraph = buildLangGraphChain(STEPS);
  const check = await langgraph("check");
  if (check !== STEPS) throw new Error(`LangGraph chain computed ${check}, expected ${STEPS}`);
  const theirs = await measure("LangGraph JS + MemorySaver", RUNS, WARMUP, (i) =>
    langgraph(`t${i}`).then(() => {}),
  );
  const theirsUs = (theirs.totalMs * 1000) / (RUNS * STEPS);

  const rows: Array<[string, number]> = [["LangGraph JS 1.x (MemorySaver), n = n + 1 in JS", theirsUs]];
  for (const mode of ["computed", "static"] as const) {
    const ours = buildOurChain(chainPlan(STEPS, mode));
    const out = (await ours("check")) as { n: number };
    if (out.n !== (mode === "computed" ? STEPS : STEPS))
      throw new Error(`our ${mode} chain computed ${out.n}`);
    const m = await measure(`aat ${mode}`, RUNS, WARMUP, (i) => ours(`r${i}`).then(() => {}));
    rows.push([
      mode === "computed"
        ? "aat (event log checkpoint), n = n + 1 in JSONata"
        : "aat (event log checkpoint), literal values",
      (m.totalMs * 1000) / (RUNS * STEPS),
    ]);
  }

  console.log("| engine | µs per step | LangGraph ÷ this |");
  console.log("|---|---:|---:|");
  for (const [label, us] of rows) console.log(`| ${label} | ${fmt(us, 2)} | ${fmt(theirsUs / us, 1)}× |`);
  const computed = theirsUs / rows[1]![1];
  console.log(
    `\nratio (computed steps): ours is ${fmt(computed, 1)}× faster per step than LangGraph JS; goal ≥ ${GOAL}× — ${computed >= GOAL ? "met" : "not met"}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
