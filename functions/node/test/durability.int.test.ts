/**
 * Durability proof on real servers (NATS JetStream + Redis): api and worker replicas as separate
 * processes, workers killed with SIGKILL, every message delivered three times, a poison message.
 * Each scenario uses its own stream and Redis namespace, removes them afterwards, and prints its
 * counts as its last line:
 *
 *   runs        runs started through the API (all must succeed)
 *   steps       steps that succeeded (runs x 10)
 *   effects     steps whose Redis counter moved (must equal steps)
 *   duplicates  effects beyond the first of a step (must be 0)
 *   absorbed    tool calls whose idempotency key had already taken effect (redeliveries, copies)
 *   kills       workers killed with SIGKILL
 *   copies      extra copies of messages published (duplicates scenario)
 *   seconds     from the first start until every run had finished (reported, not asserted)
 */
import { afterEach, describe, expect, it } from "vitest";
import { Cluster } from "./durability/cluster.js";
import {
  EFFECT_PLAN,
  expectExactlyOnce,
  POISON_PLAN,
  readEffects,
  readRuns,
  startRuns,
  waitUntilAllFinished,
} from "./durability/runs.js";
import { eventually } from "./support.js";

const RUNS = 500;
/** Every run must be finished this long after the last one was started. */
const FINISH_BOUND_MS = 120_000;
/** Short leases so that work of a killed worker is redelivered and taken over within seconds. */
const SHORT_LEASES = { AAT_NATS_ACK_WAIT_MS: "2000", AAT_NATS_MAX_DELIVER: "20" };
/** Chaos: a kill this often, at most this many, always leaving one worker running. */
const KILL_EVERY_MS = 2500;
const MAX_KILLS = 12;
const MIN_KILLS = 3;
/** Chaos: the runs are started over this window, so the kills fall on steady traffic. */
const CHAOS_TRAFFIC_MS = 15_000;

const clusters: Cluster[] = [];

afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.destroy();
});

async function startCluster(...args: Parameters<typeof Cluster.start>): Promise<Cluster> {
  const cluster = await Cluster.start(...args);
  clusters.push(cluster);
  return cluster;
}

function report(scenario: string, counts: Record<string, number>): void {
  const fields = Object.entries(counts).map(([name, value]) => `${name}=${value}`);
  console.log(`${scenario}: ${fields.join(" ")}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts the runs, waits for all of them within the bound, checks exactly-once; returns the counts. */
async function runAndCheck(
  cluster: Cluster,
  {
    spreadOverMs = 0,
    afterFinished = async () => {},
  }: { spreadOverMs?: number; afterFinished?: () => Promise<void> } = {},
) {
  const began = Date.now();
  const runIds = await startRuns(cluster, EFFECT_PLAN, RUNS, { spreadOverMs });
  let seconds: number;
  try {
    await waitUntilAllFinished(cluster, FINISH_BOUND_MS);
    // Reported, never asserted: from the first start until every run had finished (polled every 0.5 s).
    seconds = Math.round((Date.now() - began) / 100) / 10;
  } finally {
    await afterFinished();
  }
  const runs = await readRuns(cluster, runIds);
  const effects = await readEffects(cluster);
  const steps = expectExactlyOnce(runs, effects);
  expect(effects.effects).toBe(steps);
  expect(effects.duplicates).toBe(0);
  // The counts every scenario reports, in the order of the header comment.
  const counts = {
    runs: runs.length,
    steps,
    effects: effects.effects,
    duplicates: effects.duplicates,
    absorbed: effects.absorbed,
  };
  return { counts, steps, effects, seconds };
}

describe("durability on NATS JetStream (or RabbitMQ) + Redis", () => {
  it("replicas: 1 api + 3 workers run 500 ten-step runs, every step's effect exactly once", async () => {
    const cluster = await startCluster({ workers: 3, env: SHORT_LEASES });
    const { counts, effects, seconds } = await runAndCheck(cluster);
    // The three workers shared the stream: each applied effects, the api none.
    expect([...effects.byProcess.keys()].sort()).toEqual(cluster.workerPids().sort());
    report("replicas", {
      ...counts,
      kills: 0,
      workers: effects.byProcess.size,
      seconds,
    });
  }, 240_000);

  it("chaos: a worker is SIGKILLed every few seconds and restarted; every run ends within the bound, each effect once", async () => {
    // Each step works 50 ms after its effect, so every worker always holds steps whose effect happened
    // but whose result is not stored yet: a kill interrupts them.
    const cluster = await startCluster({
      workers: 3,
      env: { ...SHORT_LEASES, DURABLE_EFFECT_WORK_MS: "50" },
    });
    let kills = 0;
    let finished = false;
    const restarts: Array<Promise<void>> = [];
    const controller = (async () => {
      while (!finished && kills < MAX_KILLS) {
        await sleep(KILL_EVERY_MS);
        if (finished || cluster.workerCount < 2) continue;
        await cluster.killRandomWorker();
        kills++;
        restarts.push(cluster.startWorker());
      }
    })();
    // The controller stops once every run has finished (or the bound ran out); then the restarts settle.
    const outcome = await runAndCheck(cluster, {
      spreadOverMs: CHAOS_TRAFFIC_MS,
      afterFinished: async () => {
        finished = true;
        await controller;
        await Promise.all(restarts);
      },
    });
    const { counts, effects, seconds } = outcome;
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
    // Killed steps were taken over and run again under the same idempotency key: the tool absorbed them.
    expect(effects.absorbed).toBeGreaterThan(0);
    report("chaos", {
      ...counts,
      kills,
      seconds,
    });
  }, 240_000);

  it("duplicates: every queue message is published three times without a dedupe id; each effect still once", async () => {
    // Log level info: the workers log each copy they answer from the stored result ("replayed").
    const cluster = await startCluster({
      workers: 3,
      env: { ...SHORT_LEASES, DURABLE_PUBLISH_COPIES: "3", AAT_LOG_LEVEL: "info" },
    });
    const { counts, steps, seconds } = await runAndCheck(cluster);
    const copies = Number(await cluster.redis.get(cluster.keys.extraCopies));
    // Two extra copies of every step message at least (the first steps' messages come from the api).
    expect(copies).toBeGreaterThanOrEqual(2 * steps);
    const replayed = cluster.workerLogLines().filter((line) => line.outcome === "replayed").length;
    expect(replayed).toBeGreaterThan(0);
    report("duplicates", {
      ...counts,
      kills: 0,
      copies,
      replayed,
      seconds,
    });
  }, 240_000);

  it("rabbitmq: the same replicas on a RabbitMQ queue, dedupe claims in Redis, each effect once", async () => {
    const cluster = await startCluster({
      workers: 3,
      queue: "rabbitmq",
      env: { AAT_RABBITMQ_VISIBILITY_TIMEOUT_MS: "2000", AAT_RABBITMQ_MAX_DELIVERIES: "20" },
    });
    const { counts, steps, effects, seconds } = await runAndCheck(cluster);
    expect([...effects.byProcess.keys()].sort()).toEqual(cluster.workerPids().sort());
    // RabbitMQ has no broker dedupe: each step message's dedupe id was claimed in the shared Redis.
    // Claims are written `unlisted` (no list index), so they are counted in Redis itself.
    expect(await countStoredKeys(cluster, `rabbitmq/${cluster.queueName}/dedupe/`)).toBeGreaterThanOrEqual(
      steps,
    );
    report("rabbitmq", {
      ...counts,
      kills: 0,
      workers: effects.byProcess.size,
      seconds,
    });
  }, 240_000);

  it("poison: a step the runner cannot complete is dead-lettered after max deliveries, listed by the API, and its redrive resumes the run once the cause is fixed", async () => {
    const maxDeliver = 3;
    const cluster = await startCluster({
      workers: 1,
      env: { AAT_NATS_ACK_WAIT_MS: "2000", AAT_NATS_MAX_DELIVER: String(maxDeliver), AAT_LOG_LEVEL: "debug" },
    });
    await cluster.redis.set(cluster.keys.poisonFlag, "1");
    const [runId] = await startRuns(cluster, POISON_PLAN, 1);

    const letter = await eventually(
      async () => (await listDeadLetters(cluster)).find((item) => item.runId === runId),
      "the poison step to be dead-lettered",
      { attempts: 600, intervalMs: 100 },
    );
    expect(letter).toMatchObject({
      kind: "execute",
      runId,
      stepKey: "fragile",
      attempt: 1,
      deliveryCount: maxDeliver,
    });
    expect(letter.reason).toMatch(/BigInt/);
    await waitUntilAllFinished(cluster, FINISH_BOUND_MS);
    const [run] = await readRuns(cluster, [runId!]);
    expect(run?.status).toBe("failed");
    expect(run?.steps.before?.status).toBe("succeeded");
    expect(run?.steps.fragile?.status).toBe("dead_lettered");
    expect(run?.steps.after).toBeUndefined();
    const toolCalls = Number(await cluster.redis.get(cluster.keys.poisonCalls));
    expect(toolCalls).toBe(maxDeliver);

    // The cause is fixed, then the letter is redriven: the run that failed because of it reopens, the step
    // gets a fresh attempt and the run finishes normally.
    await cluster.redis.del(cluster.keys.poisonFlag);
    const redrive = await fetch(
      `${cluster.apiUrl}/v1/dead-letters/${encodeURIComponent(letter.id)}/redrive`,
      {
        method: "POST",
      },
    );
    expect(redrive.status).toBe(202);
    expect(await redrive.json()).toEqual({ id: letter.id, redriven: true, resumed: true });
    expect((await listDeadLetters(cluster)).map((item) => item.id)).not.toContain(letter.id);

    const resumed = await eventually(async () => {
      const [view] = await readRuns(cluster, [runId!]);
      return view?.status === "succeeded" ? view : undefined;
    }, "the redriven run to succeed");
    expect(resumed.steps.fragile).toMatchObject({ status: "succeeded", attempt: 2 });
    expect(resumed.steps.after?.status).toBe("succeeded");

    // Every delivery of the step as the worker logged it: two retries and the dead letter of attempt 1,
    // then the fresh attempt 2 (executed) and the redriven message of attempt 1, now superseded (stale).
    const outcomes = await eventually(async () => {
      const seen = stepOutcomes(cluster, runId!, "fragile");
      return seen.length === maxDeliver + 2 ? seen : undefined;
    }, "the worker to handle the fresh attempt and the redriven message");
    expect(outcomes.slice(0, maxDeliver)).toEqual([
      { deliveryCount: 1, outcome: "retry_later" },
      { deliveryCount: 2, outcome: "retry_later" },
      { deliveryCount: 3, outcome: "dead_lettered" },
    ]);
    expect(
      outcomes
        .slice(maxDeliver)
        .map((seen) => seen.outcome)
        .sort(),
    ).toEqual(["executed", "stale"]);
    const callsAfterFix = Number(await cluster.redis.get(cluster.keys.poisonCalls)) - toolCalls;
    expect(callsAfterFix).toBe(1);

    // Redriving again is refused as unknown (the letter is gone); the run is untouched.
    const again = await fetch(`${cluster.apiUrl}/v1/dead-letters/${encodeURIComponent(letter.id)}/redrive`, {
      method: "POST",
    });
    expect(again.status).toBe(404);
    report("poison", {
      runs: 1,
      deliveries: maxDeliver,
      deadLetters: 1,
      redriven: 1,
      resumed: 1,
      toolCalls: toolCalls + callsAfterFix,
      kills: 0,
    });
  }, 120_000);
});

interface ListedDeadLetter {
  id: string;
  kind: string;
  runId?: string;
  stepKey?: string;
  attempt?: number;
  reason: string;
  deliveryCount: number;
}

async function listDeadLetters(cluster: Cluster): Promise<ListedDeadLetter[]> {
  const response = await fetch(`${cluster.apiUrl}/v1/dead-letters`);
  if (response.status !== 200)
    throw new Error(`GET /v1/dead-letters: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { items: ListedDeadLetter[] }).items;
}

/** The worker's log of each message of one step: delivery count and outcome, in the order handled. */
function stepOutcomes(cluster: Cluster, runId: string, stepKey: string) {
  return cluster
    .workerLogLines()
    .filter((line) => line.runId === runId && line.stepKey === stepKey && typeof line.outcome === "string")
    .map((line) => ({ deliveryCount: line.deliveryCount, outcome: line.outcome }));
}

/** Keys stored under `keyPrefix` in the cluster's Redis namespace, found by SCAN rather than `list`. */
async function countStoredKeys(cluster: Cluster, keyPrefix: string): Promise<number> {
  let count = 0;
  let cursor = "0";
  do {
    const [next, keys] = await cluster.redis.scan(
      cursor,
      "MATCH",
      `{${cluster.prefix}}:v:${keyPrefix}*`,
      "COUNT",
      1000,
    );
    count += keys.length;
    cursor = next;
  } while (cursor !== "0");
  return count;
}
