/**
 * The webhook route on the node runtime with KV=redis and QUEUE=nats (role api, no worker): a delivery
 * is stored with its audit entry in one Redis script and its first step enqueued on
 * JetStream; a repeat finds the run, a reused delivery id with another body is a 409; the queue depth
 * gauge on /metrics counts the enqueued step.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NatsQueue } from "@aat/adapter-nats";
import { deleteNamespace } from "@aat/adapter-redis";
import { aatConfigSchema, signWebhook, type Tool } from "@aat/core";
import { uniqueSuffix } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { NATS_URL, REDIS_URL } from "./durability/cluster.js";
import { capturingLogger, tempDir } from "./support.js";

const SECRET = "webhook-ingest-secret-0123456789";
const TOKEN = "webhook-ingest-metrics-token";
const PLAN = `
id: ingest.hook
workflow: automation
title: Started by a signed webhook
triggers:
  - type: webhook
    id: ingest-hook
    secret: ingest_hook
steps:
  - id: handle
    type: tool
    tool: ingest.handle
    with: { n: "{% input.n %}" }
`;
const handle: Tool<{ n: number }, { n: number }> = {
  name: "ingest.handle",
  description: "Answers at once (no worker runs in this test)",
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: async (input) => input,
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function start(): Promise<{ runtime: NodeRuntime; redis: Redis; prefix: string }> {
  const suffix = uniqueSuffix();
  const prefix = `aat-ingest-${suffix}`;
  const stream = `AAT_INGEST_${suffix}`;
  const dataDir = await tempDir("ingest");
  const plans = join(dataDir, "plans");
  await mkdir(plans);
  await writeFile(join(plans, "hook.yaml"), PLAN);
  const redis = new Redis(REDIS_URL);
  cleanups.push(
    () => rm(dataDir, { recursive: true, force: true }),
    async () => redis.disconnect(),
    () => deleteNamespace(redis, prefix),
    () => NatsQueue.destroy({ servers: NATS_URL, stream }),
  );
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0, role: "api", shutdownGraceMs: 1000 },
      auth: { mode: "none", allowNone: true },
      plans: { directories: [plans], watch: false },
      kv: { kind: "redis", redis: { url: REDIS_URL, keyPrefix: prefix } },
      queue: { kind: "nats", nats: { servers: [NATS_URL], stream, subjectPrefix: stream.toLowerCase() } },
      telemetry: { logLevel: "warn", metrics: { token: TOKEN } },
    }),
    role: "api",
    tools: [handle],
    logger: capturingLogger().logger,
    print: () => {},
    env: { AAT_SECRET_INGEST_HOOK: SECRET },
  });
  cleanups.push(() => runtime.stop());
  return { runtime, redis, prefix };
}

async function deliver(url: string, body: string, delivery: string) {
  const response = await fetch(`${url}/v1/hooks/ingest-hook`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-aat-signature": signWebhook(SECRET, body, Math.floor(Date.now() / 1000)),
      "x-aat-delivery": delivery,
    },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function queueDepth(url: string): Promise<number | undefined> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).text();
  const line = text.split("\n").find((l) => l.startsWith("aat_queue_depth"));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("webhook ingest on Redis + NATS", () => {
  it("stores the run and its audit entry at once, enqueues its step, and dedupes", async () => {
    const { runtime, redis, prefix } = await start();
    const url = runtime.url;
    if (url === undefined) throw new Error("the api role serves HTTP, so the runtime must have a URL");
    const body = JSON.stringify({ n: 7 });
    const first = await deliver(url, body, "d-1");
    expect(first).toMatchObject({ status: 202, body: { duplicate: false } });
    const runId = first.body.runId as string;

    const value = async (key: string) => redis.get(`{${prefix}}:v:${key}`);
    expect(await value(`runlog/${runId}/0000000001`)).toMatch(/^1\|\{"type":"run.started"/);
    // No snapshot at the start: the first event is the state until the run changes.
    expect(await value(`run/${runId}`)).toBeNull();
    expect(await value(`run-active/${runId}`)).toBe(`1|{"runId":"${runId}"}`);
    expect(await redis.keys(`{${prefix}}:v:run-index/*`)).toEqual([
      expect.stringMatching(new RegExp(`run-index/\\d{14}/${runId}$`)),
    ]);
    const audit = await redis.zrangebylex(`{${prefix}}:index`, "[audit/", "(audit0");
    expect(audit).toHaveLength(1);
    expect(await value(audit[0]!)).toContain(`"details":{"runId":"${runId}","duplicate":false}`);

    const again = await deliver(url, body, "d-1");
    expect(again).toEqual({ status: 202, body: { runId, duplicate: true } });
    const changed = await deliver(url, JSON.stringify({ n: 8 }), "d-1");
    expect(changed.status).toBe(409);
    expect(changed.body.detail).toMatch(/delivery id "d-1" was seen before with a different body/);

    // The step waits on JetStream (this process runs no worker): one message, counted once although the
    // repeat re-issued it (same dedupe id).
    expect(await queueDepth(url)).toBe(1);
  });
});
