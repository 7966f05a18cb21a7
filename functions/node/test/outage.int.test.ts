/**
 * What operations.md promises when Redis or NATS goes down under a running server: /readyz answers 503
 * naming the dependency, work waits and resumes once it is back, and nothing is lost or done twice.
 * The servers are real; a TCP proxy in front of each one plays the outage.
 */
import { rm } from "node:fs/promises";
import { NatsQueue } from "@aat/adapter-nats";
import { deleteNamespace, RedisKeyValue } from "@aat/adapter-redis";
import { aatConfigSchema } from "@aat/core";
import { uniqueSuffix } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { DURABLE_PLANS, NATS_URL, REDIS_URL } from "./durability/cluster.js";
import {
  activeRuns,
  type Deployment,
  EFFECT_PLAN,
  expectExactlyOnce,
  readEffects,
  readRuns,
  startRuns,
  waitUntilAllFinished,
} from "./durability/runs.js";
import { TcpProxy } from "./durability/tcp-proxy.js";
import { effectKeys, effectTool } from "./fixtures/durable/effect-tools.js";
import { capturingLogger, eventually, tempDir } from "./support.js";

const OUTAGE_MS = 3000;
/** Each step takes this long, so runs are still in flight when a server goes down. */
const STEP_WORK_MS = 200;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function readiness(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function startBehindProxies() {
  const suffix = uniqueSuffix();
  const prefix = `aat-outage-${suffix}`;
  const stream = `AAT_OUTAGE_${suffix}`;
  const redisProxy = await TcpProxy.start(REDIS_URL);
  const natsProxy = await TcpProxy.start(NATS_URL);
  const redis = new Redis(REDIS_URL);
  const dataDir = await tempDir("outage");
  cleanups.push(
    () => rm(dataDir, { recursive: true, force: true }),
    async () => redis.disconnect(),
    () => deleteNamespace(redis, prefix),
    () => NatsQueue.destroy({ servers: NATS_URL, stream }),
    () => redisProxy.down(),
    () => natsProxy.down(),
  );
  const config = aatConfigSchema.parse({
    dataDir,
    server: { port: 0, shutdownGraceMs: 1000 },
    auth: { mode: "none", allowNone: true },
    plans: { directories: [DURABLE_PLANS], watch: false },
    kv: { kind: "redis", redis: { url: redisProxy.url("redis"), keyPrefix: prefix } },
    queue: {
      kind: "nats",
      nats: {
        servers: [natsProxy.url("nats")],
        stream,
        subjectPrefix: stream.toLowerCase(),
        ackWaitMs: 2000,
      },
    },
  });
  const { logger, lines } = capturingLogger();
  const runtime: NodeRuntime = await startNodeRuntime({
    config,
    logger,
    print: () => {},
    tools: [effectTool(redis, prefix, { workMs: STEP_WORK_MS })],
    // Short leases and a quick stalled-run sweep, so recovery takes seconds rather than minutes.
    tuning: {
      defaultStepLeaseMs: 3000,
      claimGraceMs: 1000,
      pollWaitMs: 500,
      stalledRunSweepMs: 1000,
      stalledAfterMs: 3000,
    },
  });
  cleanups.push(() => runtime.stop());
  const kv = await RedisKeyValue.connect({ url: REDIS_URL, keyPrefix: prefix });
  cleanups.push(() => kv.close());
  const deployment: Deployment = { apiUrl: runtime.url!, kv, redis, keys: effectKeys(prefix) };
  return { deployment, redisProxy, natsProxy, lines };
}

describe("a server whose Redis or NATS goes down", () => {
  it("answers 503 on /readyz naming what is down, and finishes every run once each is back", async () => {
    const { deployment, redisProxy, natsProxy, lines } = await startBehindProxies();
    const url = deployment.apiUrl;
    expect(await readiness(url)).toEqual({
      status: 200,
      body: { status: "ready", checks: { kv: "ok", queue: "ok" } },
    });
    const firstRuns = await startRuns(deployment, EFFECT_PLAN, 20);

    expect(await activeRuns(deployment)).toBeGreaterThan(0);
    await redisProxy.down();
    const withoutRedis = await readiness(url);
    expect(withoutRedis.status).toBe(503);
    expect(withoutRedis.body).toMatchObject({
      detail: "not ready: kv did not answer a ping",
      checks: { kv: "failed", queue: "ok" },
    });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await redisProxy.up();
    await eventually(async () => ((await readiness(url)).status === 200 ? true : undefined), "ready again");
    const moreRuns = await startRuns(deployment, EFFECT_PLAN, 20);

    expect(await activeRuns(deployment)).toBeGreaterThan(0);
    await natsProxy.down();
    const withoutNats = await readiness(url);
    expect(withoutNats.status).toBe(503);
    expect(withoutNats.body).toMatchObject({
      detail: "not ready: queue did not answer a ping",
      checks: { kv: "ok", queue: "failed" },
    });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await natsProxy.up();
    await eventually(async () => ((await readiness(url)).status === 200 ? true : undefined), "ready again");

    await waitUntilAllFinished(deployment, 120_000);
    const runs = await readRuns(deployment, [...firstRuns, ...moreRuns]);
    const effects = await readEffects(deployment);
    const steps = expectExactlyOnce(runs, effects);
    // The reason of each 503 went to the log, for the operator (the unauthenticated caller got only the name).
    const notReady = lines.filter((line) => line.msg === "not ready");
    expect(notReady.some((line) => typeof line.kv === "string" && line.kv !== "ok")).toBe(true);
    expect(notReady.some((line) => typeof line.queue === "string" && line.queue !== "ok")).toBe(true);
    // Runs whose next step could not be published while NATS was down, recovered by the stalled-run sweep.
    const swept = lines
      .filter((line) => typeof line.msg === "string" && line.msg.startsWith("re-issued the pending work"))
      .reduce((sum, line) => sum + Number(line.runs), 0);
    console.log(
      `outage: runs=${runs.length} steps=${steps} effects=${effects.effects} duplicates=${effects.duplicates} reconciled=${swept}`,
    );
  }, 180_000);
});
