import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryQueue } from "@aat/adapter-memory";
import { aatConfigSchema, type Queue, type WorkMessage } from "@aat/core";
import { offlineVerdictPlan } from "@aat/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOUDEVENTS_STEPS_PATH } from "../src/cloudevents.js";
import { type NodeRuntime, startNodeRuntime } from "../src/index.js";
import { forwardBatch, toCloudEvent } from "../src/step-bridge.js";
import { ForwardOnlyQueue, startBridgeRuntime } from "../src/step-bridge-runtime.js";

/** A set step, then an agent step on the offline model: the agent step goes through the step queue. */
const PLAN = offlineVerdictPlan("test.bridge", "Bridged steps");

/**
 * The eventing feed end to end without a cluster: a node runtime in role api (as the worker Knative
 * Service runs) serves POST /v1/cloudevents/steps; the bridge takes the step messages off the runtime's own
 * queue and posts them there, standing in for the Broker and Trigger.
 */
describe("step bridge (eventing worker feed)", () => {
  let runtime: NodeRuntime;
  let dataDir: string;
  let queue: Queue<WorkMessage>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "aat-bridge-"));
    await mkdir(join(dataDir, "plans"));
    await writeFile(join(dataDir, "plans", "bridge.yaml"), PLAN);
    runtime = await startNodeRuntime({
      config: aatConfigSchema.parse({
        dataDir,
        // As the eventing worker runs: a cluster-local Knative Service (components/eventing/worker.yaml).
        server: { port: 0, cloudEventsClusterLocal: true },
        plans: { directories: [join(dataDir, "plans")], watch: false },
        auth: { mode: "none", allowNone: true },
        telemetry: { logLevel: "error" },
      }),
      role: "api",
      print: () => undefined,
      siteDir: join(dataDir, "no-site"),
      decorateStores: (stores) => {
        queue = stores.queue;
        return stores;
      },
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("forwards step messages as CloudEvents until the run finishes, acking what was accepted", async () => {
    const started = await fetch(`${runtime.url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ planId: "test.bridge", input: { score: 92 } }),
    });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    let forwarded = 0;
    let status = "running";
    for (let round = 0; round < 200 && !["succeeded", "failed"].includes(status); round++) {
      const result = await forwardBatch({
        queue,
        sink: `${runtime.url}${CLOUDEVENTS_STEPS_PATH}`,
        waitMs: 20,
      });
      expect(result.refused).toBe(0);
      forwarded += result.forwarded;
      const view = (await (await fetch(`${runtime.url}/v1/runs/${runId}`)).json()) as {
        run: { status: string; output?: unknown };
      };
      status = view.run.status;
    }
    expect(status).toBe("succeeded");
    expect(forwarded).toBeGreaterThan(0);
  });

  it("hands a message back to the queue when the broker refuses it or cannot be reached", async () => {
    const memory = new MemoryQueue<WorkMessage>({ name: "bridge-refused" });
    const body = { kind: "execute", runId: "r1", stepKey: "s", attempt: 1 } as unknown as WorkMessage;
    await memory.publish(body, { dedupeId: "r1/s/1" });
    const refused = await forwardBatch({
      queue: memory,
      sink: "http://broker.invalid/",
      fetch: async () => new Response("no", { status: 503 }),
      retryDelayMs: 0,
      waitMs: 10,
    });
    expect(refused).toEqual({ forwarded: 0, refused: 1 });
    const unreachable = await forwardBatch({
      queue: memory,
      sink: "http://broker.invalid/",
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
      retryDelayMs: 0,
      waitMs: 10,
    });
    expect(unreachable).toEqual({ forwarded: 0, refused: 1 });
    const sent: Array<Record<string, string>> = [];
    const accepted = await forwardBatch({
      queue: memory,
      sink: "http://broker.invalid/",
      fetch: async (_url, init) => {
        sent.push(init?.headers as Record<string, string>);
        return new Response(null, { status: 202 });
      },
      waitMs: 10,
    });
    expect(accepted).toEqual({ forwarded: 1, refused: 0 });
    expect(sent[0]).toMatchObject({ "ce-type": "dev.aat.step", "ce-aatdedupeid": "r1/s/1" });
    expect(await memory.receive({ maxMessages: 10, waitMs: 10 })).toEqual([]);
  });

  it("the bridge's own worker never receives: the forwarder owns the queue", async () => {
    const memory = new MemoryQueue<WorkMessage>({ name: "forward-only" });
    await memory.publish({ kind: "execute" } as unknown as WorkMessage);
    const view = new ForwardOnlyQueue(memory);
    expect(await view.receive({ waitMs: 5 })).toEqual([]);
    expect(await memory.receive({ waitMs: 5 })).toHaveLength(1);
  });

  it("carries the dedupe id and trace context as CloudEvent extensions", () => {
    const event = toCloudEvent({
      id: "7",
      body: { kind: "execute" } as unknown as WorkMessage,
      attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      dedupeId: "run/step/1",
      deliveryCount: 1,
      publishedAt: 0,
      receipt: "x",
    });
    expect(event.type).toBe("dev.aat.step");
    expect(event.aatdedupeid).toBe("run/step/1");
    expect(event.traceparent).toMatch(/^00-/);
  });

  it("the bridge process resumes, sweeps and forwards, but never executes a step itself", async () => {
    // A second runtime on the same SQLite file, as the bridge container runs beside the worker Service.
    const outcomes: string[] = [];
    const bridge = await startBridgeRuntime({
      config: aatConfigSchema.parse({
        dataDir,
        plans: { directories: [join(dataDir, "plans")], watch: false },
        telemetry: { logLevel: "error", metrics: { enabled: false } },
      }),
      print: () => undefined,
      sink: `${runtime.url}${CLOUDEVENTS_STEPS_PATH}`,
      waitMs: 20,
      fetch: async (url, init) => {
        const answer = await fetch(url, init);
        outcomes.push(((await answer.clone().json()) as { outcome: string }).outcome);
        return answer;
      },
    });
    try {
      expect(bridge.runtime.role).toBe("worker");
      const started = await fetch(`${runtime.url}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ planId: "test.bridge", input: { score: 10 } }),
      });
      const { runId } = (await started.json()) as { runId: string };
      let view: { run: { status: string } } = { run: { status: "running" } };
      for (let round = 0; round < 400 && !["succeeded", "failed"].includes(view.run.status); round++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        view = (await (await fetch(`${runtime.url}/v1/runs/${runId}`)).json()) as typeof view;
      }
      expect(view.run.status).toBe("succeeded");
      // The agent step ran in the receiver (role api), reached through the forwarder.
      expect(outcomes).toContain("executed");
    } finally {
      await bridge.stop();
    }
  });
});
