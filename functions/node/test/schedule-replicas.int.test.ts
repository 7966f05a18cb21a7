/**
 * "With 3 replicas each schedule tick fires once": three functions/node processes (1 api + 2 workers),
 * each running its own scheduler with its own Redis and NATS connections, share one Redis namespace and
 * one stream. A plan fires every second; every tick must start exactly one run, none may be skipped,
 * and each run's one effect happens exactly once. Prints its counts as its last line.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "./durability/cluster.js";
import { readEffects, readRuns } from "./durability/runs.js";
import { eventually } from "./support.js";

const SCHEDULE_PLANS = fileURLToPath(new URL("./fixtures/schedule-plans", import.meta.url));
const PLAN = "test.every-second";
/** Ticks to watch (one per second). */
const TICKS = 6;

const clusters: Cluster[] = [];

afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.destroy();
});

interface Started {
  tick: number;
  runId: string;
}

/** Every "scheduled run started" line any of the processes logged (logged only by the one that created it). */
function startedRuns(cluster: Cluster): Started[] {
  const out: Started[] = [];
  for (const line of cluster.output().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === "scheduled run started" && entry.planId === PLAN) {
        out.push({ tick: Number(entry.tick), runId: String(entry.runId) });
      }
    } catch {
      // not a log line
    }
  }
  return out;
}

describe("schedules across replicas on Redis + NATS", () => {
  it("with 3 replicas each schedule tick fires once", async () => {
    const cluster = await Cluster.start({
      workers: 2,
      env: { AAT_PLANS_DIRS: SCHEDULE_PLANS, AAT_LOG_LEVEL: "info" },
    });
    clusters.push(cluster);

    const started = await eventually(
      async () => {
        const seen = startedRuns(cluster);
        return new Set(seen.map((run) => run.tick)).size >= TICKS + 1 ? seen : undefined;
      },
      `${TICKS + 1} ticks of ${PLAN} to fire`,
      { attempts: 300, intervalMs: 100 },
    );
    // The first tick may predate the last replica's start; look at the ticks after it.
    const ticks = [...new Set(started.map((run) => run.tick))].sort((a, b) => a - b).slice(1, TICKS + 1);
    const perTick = ticks.map((tick) => started.filter((run) => run.tick === tick).length);
    expect(perTick).toEqual(ticks.map(() => 1));
    // No tick skipped: one run per second from the first watched tick to the last.
    expect(ticks.map((tick) => tick - ticks[0]!)).toEqual(ticks.map((_, index) => index * 1000));

    const runIds = ticks.map((tick) => started.find((run) => run.tick === tick)!.runId);
    const runs = await eventually(async () => {
      const views = await readRuns(cluster, runIds);
      return views.every((run) => run.status === "succeeded") ? views : undefined;
    }, "the scheduled runs to succeed");
    const effects = await readEffects(cluster);
    for (const run of runs) expect(effects.counters.get(`${run.runId}/tick`)).toBe(1);
    console.log(
      `schedules: replicas=3 ticks=${ticks.length} runs=${runs.length} startsPerTick=${Math.max(...perTick)} ` +
        `effects=${runs.length}`,
    );
  }, 90_000);
});
