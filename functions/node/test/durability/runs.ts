import type { KeyValue } from "@aat/core";
import type { Redis } from "ioredis";
import { expect } from "vitest";
import type { effectKeys } from "../fixtures/durable/effect-tools.js";

/** What the helpers need of a deployment under test: its API, its KeyValue namespace, the tools' keys. */
export interface Deployment {
  apiUrl: string;
  kv: KeyValue;
  redis: Redis;
  keys: ReturnType<typeof effectKeys>;
}

export const EFFECT_PLAN = "test.effects";
export const POISON_PLAN = "test.poison";
export const EFFECT_STEPS = ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "s09", "s10"];

interface RunView {
  runId: string;
  status: string;
  steps: Record<string, { status: string; attempt: number }>;
}

/** Runs `task` over `items` with at most `limit` at a time. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await task(items[index]!);
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Starts `count` runs of `planId` through the API (POST /v1/runs), 16 requests at a time; with
 * `spreadOverMs`, the n-th run is started no sooner than n/count of that window (steady traffic).
 */
export async function startRuns(
  deployment: Deployment,
  planId: string,
  count: number,
  { spreadOverMs = 0 } = {},
): Promise<string[]> {
  const begin = Date.now();
  return inParallel(
    Array.from({ length: count }, (_, n) => n),
    16,
    async (n) => {
      const due = begin + (spreadOverMs * n) / count;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const response = await fetch(`${deployment.apiUrl}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ planId }),
      });
      const body = (await response.json()) as { runId?: string };
      if (response.status !== 202 || !body.runId) {
        throw new Error(`POST /v1/runs answered ${response.status}: ${JSON.stringify(body)}`);
      }
      return body.runId;
    },
  );
}

/** How many keys of the deployment's KeyValue namespace start with `prefix`. */
export async function countKeys(deployment: Deployment, prefix: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await deployment.kv.list(prefix, { limit: 1000, ...(cursor ? { cursor } : {}) });
    count += page.entries.length;
    cursor = page.cursor;
  } while (cursor);
  return count;
}

/** How many runs are unfinished: the runner keeps a `run-active/<id>` key until a run ends. */
export function activeRuns(deployment: Deployment): Promise<number> {
  return countKeys(deployment, "run-active/");
}

/**
 * Waits until no run is unfinished, failing when that takes longer than `boundMs`: that every run
 * reaches a terminal status within a bound is part of what the tests prove.
 */
export async function waitUntilAllFinished(deployment: Deployment, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const active = await activeRuns(deployment);
    if (active === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${active} run(s) were still unfinished ${boundMs} ms after the last one started`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Each run as the API shows it (snapshot plus log: the authoritative state). */
export async function readRuns(deployment: Deployment, runIds: readonly string[]): Promise<RunView[]> {
  return inParallel(runIds, 16, async (runId) => {
    const response = await fetch(`${deployment.apiUrl}/v1/runs/${encodeURIComponent(runId)}`);
    if (response.status !== 200) throw new Error(`GET /v1/runs/${runId}: ${response.status}`);
    return ((await response.json()) as { run: RunView }).run;
  });
}

export interface EffectCounts {
  /** Steps whose effect happened: counters at 1 or more. */
  effects: number;
  /** Effects beyond the first of a step: the sum of (counter - 1). Must be 0. */
  duplicates: number;
  /** Tool calls whose idempotency key had already taken effect (absorbed by the tool). */
  absorbed: number;
  /** Effects applied by each process (pid → count). */
  byProcess: Map<string, number>;
  counters: Map<string, number>;
}

/** Reads every effect counter of the deployment's namespace. */
export async function readEffects(deployment: Deployment): Promise<EffectCounts> {
  const names: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await deployment.redis.scan(
      cursor,
      "MATCH",
      deployment.keys.countPattern,
      "COUNT",
      1000,
    );
    names.push(...found);
    cursor = next;
  } while (cursor !== "0");
  const counters = new Map<string, number>();
  const prefixLength = deployment.keys.countPattern.length - 1;
  for (let start = 0; start < names.length; start += 1000) {
    const batch = names.slice(start, start + 1000);
    const values = await deployment.redis.mget(batch);
    for (const [index, name] of batch.entries())
      counters.set(name.slice(prefixLength), Number(values[index]));
  }
  let duplicates = 0;
  for (const count of counters.values()) duplicates += Math.max(0, count - 1);
  const absorbed = Number((await deployment.redis.get(deployment.keys.absorbed)) ?? 0);
  const byProcess = new Map(
    Object.entries(await deployment.redis.hgetall(deployment.keys.byProcess)).map(([pid, count]) => [
      pid,
      Number(count),
    ]),
  );
  return { effects: counters.size, duplicates, absorbed, byProcess, counters };
}

/**
 * The assertions every effect scenario shares: each run succeeded with its ten steps, and each step's
 * counter is exactly 1 (no effect lost, none doubled). Returns the number of succeeded steps.
 */
export function expectExactlyOnce(runs: readonly RunView[], effects: EffectCounts): number {
  const notSucceeded = runs.filter((run) => run.status !== "succeeded");
  expect(notSucceeded.map((run) => `${run.runId}: ${run.status}`)).toEqual([]);
  let steps = 0;
  for (const run of runs) {
    for (const key of EFFECT_STEPS) if (run.steps[key]?.status === "succeeded") steps++;
  }
  expect(steps).toBe(runs.length * EFFECT_STEPS.length);
  const expected = new Set(runs.flatMap((run) => EFFECT_STEPS.map((key) => `${run.runId}/${key}`)));
  const missing = [...expected].filter((key) => !effects.counters.has(key));
  const unexpected = [...effects.counters.keys()].filter((key) => !expected.has(key));
  const notOnce = [...effects.counters].filter(([, count]) => count !== 1);
  // Only the first few of each kind, so a failure stays readable.
  expect({
    missing: missing.length,
    unexpected: unexpected.length,
    notOnce: notOnce.length,
    examples: [...missing.slice(0, 5), ...unexpected.slice(0, 5), ...notOnce.slice(0, 5).map(String)],
  }).toEqual({ missing: 0, unexpected: 0, notOnce: 0, examples: [] });
  return steps;
}
