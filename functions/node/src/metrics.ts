import { timingSafeEqual } from "node:crypto";
import type { DedupeHitSource, RunMetrics, RunStatus, StepOutcome } from "@aat/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Step latency buckets in seconds: inline steps take microseconds, tool and agent steps up to minutes. */
const STEP_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];

/**
 * The runtime's Prometheus metrics (prom-client, a registry of its own): the core's RunMetrics plus
 * the step queue's depth, read at scrape time, and Node's process metrics. Served at GET /metrics.
 */
export class PrometheusMetrics implements RunMetrics {
  readonly registry = new Registry();
  private readonly started: Counter<"workflow">;
  private readonly finished: Counter<"workflow" | "status">;
  private readonly steps: Histogram<"node_type" | "outcome">;
  private readonly dedupe: Counter<"source">;

  constructor(options: { role: string; queueDepth?: () => Promise<number> }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ role: options.role });
    collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: "aat_runs_started_total",
      help: "Runs started (a repeated idempotent start is not counted).",
      labelNames: ["workflow"],
      registers,
    });
    this.finished = new Counter({
      name: "aat_runs_finished_total",
      help: "Runs that reached a terminal status, by status.",
      labelNames: ["workflow", "status"],
      registers,
    });
    this.steps = new Histogram({
      name: "aat_step_duration_seconds",
      help: "Time from a step's start to its result, by node type and outcome (inline steps included).",
      labelNames: ["node_type", "outcome"],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.dedupe = new Counter({
      name: "aat_dedupe_hits_total",
      help: "Duplicates absorbed: a step whose result was already stored (step), a publish the queue dropped as a duplicate (queue).",
      labelNames: ["source"],
      registers,
    });
    const depth = options.queueDepth;
    if (depth) {
      new Gauge({
        name: "aat_queue_depth",
        help: "Step queue messages not yet acked or dead-lettered (ready, delayed or in flight), read at scrape time.",
        registers,
        async collect() {
          this.set(await depth());
        },
      });
    }
  }

  runStarted(plan: { workflow: string }): void {
    this.started.inc({ workflow: plan.workflow });
  }

  runFinished(status: RunStatus, plan: { workflow: string }): void {
    this.finished.inc({ workflow: plan.workflow, status });
  }

  stepExecuted(nodeType: string, outcome: StepOutcome, seconds: number): void {
    this.steps.observe({ node_type: nodeType, outcome }, seconds);
  }

  dedupeHit(source: DedupeHitSource): void {
    this.dedupe.inc({ source });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

/**
 * GET /metrics: the exposition, or 401 when a token is configured and the request does not carry it
 * as a bearer token. Compared in constant time.
 */
export function metricsHandler(
  metrics: PrometheusMetrics,
  token: string | undefined,
): (request: Request) => Promise<Response> {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("only GET /metrics\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (expected && !sameBytes(Buffer.from(request.headers.get("authorization") ?? ""), expected)) {
      return new Response("metrics need Authorization: Bearer <telemetry.metrics.token>\n", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="metrics"' },
      });
    }
    const { body, contentType } = await metrics.scrape();
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": contentType },
    });
  };
}

function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
