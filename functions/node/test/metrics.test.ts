import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aatConfigSchema, type Tool } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { capturingLogger, eventually, getJson, postJson, tempDir } from "./support.js";

const PLANS = fileURLToPath(new URL("./fixtures/traced-plans", import.meta.url));
const TOKEN = "metrics-token-for-the-test";

const started: NodeRuntime[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const echo: Tool<{ text: string }, { text: string }> = {
  name: "test.echo",
  description: "Echoes its text",
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  async run(input) {
    return input;
  },
};

async function start(metrics: Record<string, unknown>) {
  const dataDir = await tempDir("metrics");
  dirs.push(dataDir);
  const printed: string[] = [];
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      kv: { kind: "memory" },
      queue: { kind: "memory" },
      auth: { mode: "none", allowNone: true },
      plans: { directories: [PLANS], watch: false },
      telemetry: { logLevel: "warn", metrics },
    }),
    tools: [echo],
    logger: capturingLogger().logger,
    print: (text) => printed.push(text),
    siteDir: join(dataDir, "no-site-here"),
    tuning: { pollWaitMs: 50 },
    // Every step message is published twice: the queue drops the second as a duplicate (a dedupe hit).
    decorateStores: ({ kv, queue }) => ({
      kv,
      queue: Object.assign(Object.create(queue), {
        publish: async (...args: Parameters<typeof queue.publish>) => {
          await queue.publish(...args);
          return queue.publish(...args);
        },
      }),
    }),
  });
  started.push(runtime);
  return { runtime, printed };
}

/** The value of the one sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => have[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe("GET /metrics on the node runtime", () => {
  it("counts runs, step latency by node type, queue depth and dedupe hits, behind the configured token", async () => {
    const { runtime } = await start({ token: TOKEN });
    const created = await postJson(`${runtime.url}/v1/runs`, { planId: "test.counted" });
    expect(created.status).toBe(202);
    const { runId } = created.body as { runId: string };
    await eventually(async () => {
      const { run } = (await getJson(`${runtime.url}/v1/runs/${runId}`)) as { run: { status: string } };
      return run.status === "succeeded" ? true : undefined;
    }, "the run to succeed");

    const refused = await fetch(`${runtime.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(
      (await fetch(`${runtime.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status,
    ).toBe(401);

    const response = await fetch(`${runtime.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const role = { role: "all" };
    expect(sample(text, "aat_runs_started_total", { ...role, workflow: "automation" })).toBe(1);
    expect(
      sample(text, "aat_runs_finished_total", { ...role, workflow: "automation", status: "succeeded" }),
    ).toBe(1);
    expect(sample(text, "aat_step_duration_seconds_count", { node_type: "set", outcome: "succeeded" })).toBe(
      2,
    );
    expect(sample(text, "aat_step_duration_seconds_count", { node_type: "tool", outcome: "succeeded" })).toBe(
      1,
    );
    expect(sample(text, "aat_step_duration_seconds_bucket", { node_type: "tool", le: "+Inf" })).toBe(1);
    expect(sample(text, "aat_dedupe_hits_total", { source: "queue" })).toBe(1);
    expect(sample(text, "aat_queue_depth", role)).toBe(0);
    // Node's own process metrics come along.
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("is served open when no token is set, on a port of its own when asked, and not at all when disabled", async () => {
    const { runtime, printed } = await start({ port: 0 });
    expect(runtime.metricsPort).toBeGreaterThan(0);
    expect(printed.join("\n")).toContain(`:${runtime.metricsPort}/metrics`);
    const own = await fetch(`http://127.0.0.1:${runtime.metricsPort}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain("aat_runs_started_total");
    expect((await fetch(`http://127.0.0.1:${runtime.metricsPort}/v1/runs`)).status).toBe(404);
    expect((await fetch(`${runtime.url}/metrics`)).status).toBe(200);

    const { runtime: off } = await start({ enabled: false });
    expect(off.metricsPort).toBeUndefined();
    const response = await fetch(`${off.url}/metrics`);
    expect(await response.text()).not.toContain("aat_runs_started_total");
  });
});
