import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ChildProcessHandle,
  eventually,
  getJson,
  postJson,
  spawnProcess,
  spawnRuntime,
  tempDir,
} from "./support.js";

const TRACED_RUNTIME = fileURLToPath(new URL("./fixtures/traced-runtime.ts", import.meta.url));
const TRACED_PLANS = fileURLToPath(new URL("./fixtures/traced-plans", import.meta.url));

interface DumpedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  process: "api" | "worker";
}

const children: ChildProcessHandle[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill("SIGKILL");
    await child.exited;
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function readSpans(file: string, process: DumpedSpan["process"]): Promise<DumpedSpan[]> {
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => ({ ...(JSON.parse(line) as Omit<DumpedSpan, "process">), process }));
}

describe("one trace per run across an api process and a worker process", () => {
  it("continues the caller's trace through inline, queued, timer and approval steps, with parent links", async () => {
    const dataDir = await tempDir("tracing");
    dirs.push(dataDir);
    const env = {
      AAT_DATA_DIR: dataDir,
      AAT_SERVER_PORT: "0",
      AAT_PLANS_DIRS: TRACED_PLANS,
      AAT_PLANS_WATCH: "false",
      AAT_AUTH_MODE: "none",
      AAT_AUTH_ALLOW_NONE: "true",
      AAT_LOG_LEVEL: "warn",
    };
    const apiSpans = join(dataDir, "api-spans.jsonl");
    const workerSpans = join(dataDir, "worker-spans.jsonl");
    // Two runtimes that share only the SQLite file (KV and queue): the api serves HTTP and runs inline
    // steps, the worker takes the queued steps and timers, and serves its metrics on a port of its own.
    const api = await spawnRuntime(TRACED_RUNTIME, { ...env, AAT_SERVER_ROLE: "api", SPANS_FILE: apiSpans });
    children.push(api);
    const worker = await spawnProcess(
      TRACED_RUNTIME,
      { ...env, AAT_SERVER_ROLE: "worker", AAT_METRICS_PORT: "0", SPANS_FILE: workerSpans },
      /metrics at (http:\/\/\S+\/metrics)/,
    );
    children.push(worker);

    // The caller's own trace: the run must join it.
    const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpanId = "00f067aa0ba902b7";
    const created = await postJson(
      `${api.url}/v1/runs`,
      { planId: "test.traced", input: { text: "hello" } },
      { traceparent: `00-${callerTraceId}-${callerSpanId}-01` },
    );
    expect(created.status).toBe(202);
    const runId = (created.body as { runId: string }).runId;

    const runStatus = async () =>
      (
        (await getJson(`${api.url}/v1/runs/${runId}`)) as {
          run: { status: string; trace?: unknown; steps: Record<string, { status: string }> };
        }
      ).run;
    await eventually(
      async () => ((await runStatus()).steps.review?.status === "waiting_approval" ? true : undefined),
      "the run to wait for its approval",
    );
    // The approval is a request of its own, outside the run's trace.
    const approved = await postJson(`${api.url}/v1/runs/${runId}/steps/review/approve`, {});
    expect(approved.status).toBe(200);
    const finished = await eventually(async () => {
      const run = await runStatus();
      if (run.status === "failed" || run.status === "cancelled") throw new Error(`run ended ${run.status}`);
      return run.status === "succeeded" ? run : undefined;
    }, "the run to succeed");
    const finishedTrace = finished.trace;

    // The worker's metrics: its queued tool steps are in the step latency histogram.
    const metrics = await (await fetch(worker.ready)).text();
    expect(metrics).toMatch(
      /aat_step_duration_seconds_count\{[^}]*node_type="tool",outcome="succeeded"[^}]*\} 2/,
    );

    api.child.kill("SIGTERM");
    worker.child.kill("SIGTERM");
    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(await worker.exited).toEqual({ code: 0, signal: null });

    const spans = [...(await readSpans(apiSpans, "api")), ...(await readSpans(workerSpans, "worker"))];
    expect(finishedTrace).toEqual({
      traceparent: expect.stringMatching(new RegExp(`^00-${callerTraceId}-`)),
    });
    const one = (name: string, process: DumpedSpan["process"]) => {
      const found = spans.filter((span) => span.name === name && span.process === process);
      expect(found.map((span) => span.name)).toEqual([name]);
      return found[0]!;
    };
    const request = one("POST /v1/runs", "api");
    const start = one("run.start test.traced", "api");
    const prepare = one("step prepare", "api");
    const first = one("step first", "worker");
    const timer = one("run.timer", "worker");
    const approveRequest = one("POST /v1/runs/:id/steps/:stepId/approve", "api");
    const approval = one("run.approval.granted", "api");
    const second = one("step second", "worker");
    const done = one("step done", "worker");

    // One trace: the caller's, in both processes, for every span about the run.
    const runSpans = spans.filter((span) => span.attributes["aat.run.id"] === runId);
    expect(runSpans.length).toBeGreaterThanOrEqual(8);
    expect(new Set(runSpans.map((span) => span.traceId))).toEqual(new Set([callerTraceId]));
    expect(new Set(runSpans.map((span) => span.process))).toEqual(new Set(["api", "worker"]));

    // Parent links: caller → request → run.start → inline step and first queued step (over the queue)
    // → the timer it armed; the approval continues the run's trace under run.start, linked to the
    // approval request (a trace of its own), and the step after it hangs under the approval.
    expect(request.parentSpanId).toBe(callerSpanId);
    expect(start.parentSpanId).toBe(request.spanId);
    expect(prepare.parentSpanId).toBe(start.spanId);
    expect(first.parentSpanId).toBe(start.spanId);
    expect(timer.parentSpanId).toBe(first.spanId);
    expect(approveRequest.traceId).not.toBe(callerTraceId);
    expect(approval.traceId).toBe(callerTraceId);
    expect(approval.parentSpanId).toBe(start.spanId);
    expect(approval.links).toEqual([{ traceId: approveRequest.traceId, spanId: approveRequest.spanId }]);
    expect(second.parentSpanId).toBe(approval.spanId);
    expect(done.parentSpanId).toBe(second.spanId);
    // Adapter calls made inside a step are client spans of that step: its claim, its result, its ack.
    const firstCalls = spans.filter((span) => span.parentSpanId === first.spanId).map((span) => span.name);
    expect(firstCalls).toEqual(expect.arrayContaining(["kv.setIfAbsent", "queue.publish", "queue.ack"]));
  }, 120_000);
});
