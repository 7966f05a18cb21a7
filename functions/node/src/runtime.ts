import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { createModelRegistry } from "@aat/adapter-models";
import {
  type AatConfig,
  ApiKeyStore,
  AUTH_NONE_WARNING,
  AuditLog,
  type BootstrapOutcome,
  ChatDeltaHub,
  type ChatServiceOptions,
  type Clock,
  connectMcpServers,
  createApi,
  DirectoryPlanRepository,
  EnvSecrets,
  ensureBootstrapAdminKey,
  type KeyValue,
  KvPlanRepository,
  LanguageModelAgent,
  type PlanDirectoryWatch,
  PlanFactory,
  Planner,
  type Queue,
  RunEventHub,
  Runner,
  registerBuiltinHandlers,
  registerBuiltinTools,
  registerScheduleRoutes,
  resolveConfiguredSources,
  Scheduler,
  type StartPlanRun,
  startPlanDirectorySync,
  systemClock,
  type Tool,
  ToolRegistry,
  traceKeyValue,
  traceQueue,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { createChatService, oidcVerifierOf } from "@aat/functions-serverless";
import { getRequestListener, type ServerType, serve } from "@hono/node-server";
import { z } from "zod";
import { PrometheusAlertMetrics } from "./alert-metrics.js";
import { alertsRuntime } from "./alerts.js";
import { analyticsRuntime } from "./analytics.js";
import {
  CLOUDEVENTS_STEPS_PATH,
  CloudEventSettlementQueue,
  createCloudEventsReceiver,
} from "./cloudevents.js";
import { type CodingRuntime, codingRuntime } from "./coding.js";
import { hookFastPath } from "./hook-fast-path.js";
import { createLogger, type RuntimeLogger } from "./logger.js";
import { metricsHandler, PrometheusMetrics } from "./metrics.js";
import { connectBroadcast } from "./network-stores.js";
import { ReleasableDedupe, TrackedQueue } from "./releasable.js";
import { requestPath } from "./request-path.js";
import { withDefaultThreatIntel } from "./sample-feed.js";
import { createSiteApp, DEFAULT_SITE_DIR } from "./site.js";
import { StalledRunSweeper } from "./stalled-runs.js";
import { openStores, type QueueTuning } from "./stores.js";
import { workerLogging } from "./worker-logging.js";

export type RuntimeRole = "api" | "worker" | "all";

/** Knobs tests and benchmarks turn; production uses the defaults. */
export interface RuntimeTuning {
  queue?: QueueTuning;
  /** Added to a step's timeout before a silent claim holder is presumed dead (Runner default 30 s). */
  claimGraceMs?: number;
  /** Claim lease of steps without a timeout, renewed by worker heartbeats (Runner default 30 s). */
  defaultStepLeaseMs?: number;
  /** How long one worker receive waits for work (default 1 s). */
  pollWaitMs?: number;
  /** Longest wait between schedule checks (default 30 s). */
  schedulerMaxSleepMs?: number;
  /** How often a worker replica looks for stalled runs (default 30 s). */
  stalledRunSweepMs?: number;
  /** How long a queued step may wait before its run counts as stalled (default 60 s). */
  stalledAfterMs?: number;
  /** Chat: overrides config.chat (history budget, context limits, turn wait) and the run poll interval. */
  chat?: Pick<ChatServiceOptions, "history" | "contextLimits" | "turnWaitMs" | "pollMs">;
}

export interface NodeRuntimeOptions {
  config: AatConfig;
  /** What this process runs; defaults to config.server.role. */
  role?: RuntimeRole;
  /** Tools offered to plans, beyond the built-in ones (plugins; tests register stub tools here). */
  tools?: Tool[];
  /** Structured log destination; defaults to pino JSON lines on stdout at config.telemetry.logLevel. */
  logger?: RuntimeLogger;
  /** Where the start-up banner (URL, first admin key, warnings) is written; defaults to stdout. */
  print?: (text: string) => void;
  clock?: Clock;
  /** Static site served at / when present (default: the repository's site/dist). */
  siteDir?: string;
  /** Environment for secrets (webhook signing secrets); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  tuning?: RuntimeTuning;
  /**
   * Wraps the opened stores before anything uses them: a hook for plugins (instrumentation) and for the
   * durability tests, which inject faults such as a queue that publishes every message three times.
   * The stores themselves are still the ones closed at shutdown.
   */
  decorateStores?: (stores: RuntimeStores) => RuntimeStores;
  /**
   * A tracer provider is registered (runMain does it when OTEL_* variables ask): the stores get a client
   * span per call made inside a traced step or request.
   */
  tracing?: boolean;
  /**
   * Answer webhook deliveries (POST /v1/hooks/:triggerId) from a plain node:http handler ahead of the
   * Hono app (default true); false sends them through Hono, as the test comparing both paths does.
   */
  hookFastPath?: boolean;
}

export interface RuntimeStores {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
}

export interface NodeRuntime {
  role: RuntimeRole;
  /** The base URL of the HTTP server (roles api and all). */
  url?: string;
  port?: number;
  version: string;
  /** What happened to the first admin key at this start (apiKey and oidc modes, roles api and all). */
  bootstrap?: BootstrapOutcome;
  /** Unfinished runs reconciled at start (roles worker and all). */
  reconciled: number;
  /** The port of the separate metrics listener (telemetry.metrics.port), when there is one. */
  metricsPort?: number;
  runner: Runner;
  scheduler: Scheduler;
  plans: KvPlanRepository;
  logger: RuntimeLogger;
  /**
   * Graceful shutdown: stop accepting HTTP requests and work, let in-flight requests and steps finish
   * within config.server.shutdownGraceMs, release the steps that did not (their next delivery runs them
   * at once), close the stores. Idempotent.
   */
  stop(): Promise<void>;
}

const packageJson = z.object({ version: z.string() });
export const RUNTIME_VERSION = packageJson.parse(
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")),
).version;

/** Starts the runtime: stores, plans, runner, worker, scheduler and HTTP API, as the role asks. */
export async function startNodeRuntime(options: NodeRuntimeOptions): Promise<NodeRuntime> {
  const { config } = options;
  const role = options.role ?? config.server.role;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config);
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const tuning = options.tuning ?? {};
  const serveHttp = role !== "worker";
  const runWorker = role !== "api";

  const stores = await openStores(config, {
    clock,
    role,
    ...(tuning.queue ? { queue: tuning.queue } : {}),
    onBackgroundError: (error) =>
      logger.warn({ error: error.message }, "queue background work failed; it retries by itself"),
  });
  const cleanup: Array<() => Promise<unknown>> = [() => stores.close()];
  try {
    const decorated = options.decorateStores
      ? options.decorateStores({ kv: stores.kv, queue: stores.queue })
      : stores;
    const kv = options.tracing ? traceKeyValue(decorated.kv, config.kv.kind) : decorated.kv;
    // Step messages pushed as CloudEvents (Knative Eventing) are settled by the HTTP answer, not the queue.
    const cloudEventQueue = new CloudEventSettlementQueue(
      options.tracing ? traceQueue(decorated.queue, config.queue.kind) : decorated.queue,
    );
    const queue = new TrackedQueue(cloudEventQueue);
    const stepQueue = decorated.queue;
    const metrics = config.telemetry.metrics.enabled
      ? new PrometheusMetrics({
          role,
          ...(stepQueue.depth ? { queueDepth: () => stepQueue.depth!() } : {}),
        })
      : undefined;
    const serveMetrics = metrics ? metricsHandler(metrics, config.telemetry.metrics.token) : undefined;
    const tools = new ToolRegistry(options.tools ?? []);
    // plan.run starts runs through the runner built below; the tool only calls it while a step runs.
    let startRun: StartPlanRun = () => Promise.reject(new Error("the runner is not started yet"));
    const alertMetrics = metrics ? new PrometheusAlertMetrics(metrics.registry) : undefined;
    const threatIntel = withDefaultThreatIntel(config);
    if (threatIntel.sampleFeed) {
      logger.info(
        { feed: threatIntel.sampleFeed },
        "no threatintel provider configured: the embedded default uses the shipped sample feed (set threatintel.feeds or a provider key to replace it)",
      );
    }
    registerBuiltinTools(tools, {
      http: config.http,
      notes: { kv },
      startRun: (request) => startRun(request),
      alerts: {
        threatintel: threatIntel.config.threatintel,
        actions: config.actions,
        allowHosts: config.http.allowHosts,
        kv,
        actionTimeoutMs: config.http.timeoutMs,
        clock,
        ...(alertMetrics ? { onLookup: (event) => alertMetrics.lookup(event) } : {}),
      },
    });
    const secrets = new EnvSecrets(options.env ?? process.env);
    // Data sources and the sql.* tools; `models` is read only when a question is asked.
    const analytics = analyticsRuntime({
      config,
      kv,
      secrets,
      tools,
      offline: () => models.resolve().provider === "offline",
      now: () => clock.now(),
      onConfiguredSourceError: (id, message) => logger.warn({ datasourceId: id }, message),
    });
    cleanup.unshift(() => analytics.close());
    // Repositories, their indexes and the code.* tools (coding.enabled; docs/workflows-coding.md).
    let coding: CodingRuntime | undefined;
    if (config.coding.enabled) {
      coding = await codingRuntime({
        config,
        kv,
        tools,
        offline: () => models.resolve().provider === "offline",
        now: () => clock.now(),
        onError: (repo, message) => logger.warn({ repo }, `coding: ${message}`),
      });
      const opened = coding;
      cleanup.unshift(() => opened.close());
    }
    // Webhook sources from alerts.sources, their secrets read now: a missing one stops the start.
    const configuredSources = await resolveConfiguredSources(config.alerts.sources, secrets, clock.now());
    // MCP servers' tools must be registered before plans are loaded, which checks them against the registry.
    const mcp = await connectMcpServers(config.mcp, {
      registry: tools,
      secrets,
      logger,
      clientInfo: { name: "aat", version: RUNTIME_VERSION },
    });
    cleanup.unshift(() => mcp.close());
    const checks = { tools };
    const plans = new KvPlanRepository(kv, { ...checks, clock });

    const directories = config.plans.directories.map((dir) => new DirectoryPlanRepository(dir, checks));
    const sync: PlanDirectoryWatch = await startPlanDirectorySync(directories, plans, {
      logger,
      watch: config.plans.watch,
    });
    cleanup.unshift(() => sync.close());

    const events = new RunEventHub();
    // Agent steps: the configured models (the offline model when none is configured).
    const models = createModelRegistry(config.models);
    const model = new LanguageModelAgent(models);
    // Chat turns stream the agent's text through this hub to the request waiting for the run; on Redis or
    // NATS across processes too (the api replica holding the request may not run the step).
    const relay = await connectBroadcast(config, role);
    if (relay) cleanup.unshift(() => relay.close());
    const chatDeltas = new ChatDeltaHub(relay);
    const services = { tools, secrets, logger, model };
    const factory = registerBuiltinHandlers(new PlanFactory({ services }));
    const dedupe = new ReleasableDedupe({ kv, clock });
    // Alert statuses follow their triage runs; `runner` is read only once events flow.
    const alerts = alertsRuntime({
      kv,
      clock,
      logger,
      ...(alertMetrics ? { exported: alertMetrics } : {}),
    });
    const runner = new Runner({
      kv,
      queue,
      plans,
      compile: (definition) => factory.compile(definition),
      dedupe,
      clock,
      services,
      onEvent: (runId, seq, event) => {
        events.publish(runId, seq, event);
        alerts.onEvent(runId, seq, event);
      },
      onRunFinished: (state) => alerts.onRunFinished(state),
      ...(metrics ? { metrics } : {}),
      onTextDelta: (runId, _stepKey, text) => chatDeltas.publish(runId, { type: "text", text }),
      ...(tuning.claimGraceMs !== undefined ? { claimGraceMs: tuning.claimGraceMs } : {}),
      ...(tuning.defaultStepLeaseMs !== undefined ? { defaultStepLeaseMs: tuning.defaultStepLeaseMs } : {}),
    });

    startRun = (request) => runner.start(request);

    let reconciled = 0;
    if (runWorker) {
      reconciled = await runner.reconcileAll();
      if (reconciled > 0) logger.info({ runs: reconciled }, `resumed ${reconciled} unfinished run(s)`);
    }

    const worker = runWorker
      ? new Worker(runner, queue, {
          concurrency: config.limits.maxConcurrentSteps,
          // Renew a running step's lease three times per lease, so one late heartbeat never loses it.
          leaseMs: stores.leaseMs,
          heartbeatMs: Math.max(50, Math.floor(stores.leaseMs / 3)),
          ...(tuning.pollWaitMs !== undefined ? { pollWaitMs: tuning.pollWaitMs } : {}),
          ...workerLogging(logger),
        })
      : undefined;
    if (worker) {
      worker.start();
      cleanup.unshift(() => worker.stop());
    }
    const sweeper = runWorker
      ? new StalledRunSweeper({
          kv,
          runner,
          clock,
          logger,
          ...(tuning.stalledRunSweepMs !== undefined ? { intervalMs: tuning.stalledRunSweepMs } : {}),
          ...(tuning.stalledAfterMs !== undefined ? { stalledAfterMs: tuning.stalledAfterMs } : {}),
        })
      : undefined;
    if (sweeper) {
      sweeper.start();
      cleanup.unshift(() => sweeper.stop());
    }

    const scheduler = new Scheduler({
      kv,
      plans,
      runner,
      clock,
      logger,
      ...(tuning.schedulerMaxSleepMs !== undefined ? { maxSleepMs: tuning.schedulerMaxSleepMs } : {}),
    });
    scheduler.start();
    cleanup.unshift(() => scheduler.stop());

    let server: ServerType | undefined;
    let url: string | undefined;
    let port: number | undefined;
    let bootstrap: BootstrapOutcome | undefined;
    if (serveHttp) {
      const keys = new ApiKeyStore(kv, clock);
      const auth = config.auth;
      const oidc = oidcVerifierOf(auth, clock);
      const chat = createChatService({
        config,
        kv,
        runner,
        plans,
        models,
        clock,
        events,
        deltas: chatDeltas,
        ...(tuning.chat ? { tuning: tuning.chat } : {}),
      });
      const { app: api, hooks } = createApi({
        runner,
        plans,
        planner: new Planner(plans),
        kv,
        queue,
        auth: { keys, mode: auth.mode, ...(oidc ? { oidc } : {}) },
        auditLog: new AuditLog(kv, clock),
        config,
        clock,
        secrets,
        // Dry runs happen on throw-away memory stores, never in the real ones.
        scratch: () => ({
          kv: new MemoryKeyValue({ clock }),
          queue: new MemoryQueue<WorkMessage>({ name: `dry-run-${crypto.randomUUID()}`, clock }),
        }),
        version: RUNTIME_VERSION,
        events,
        logger,
        checks,
        chat,
        analytics: analytics.api,
        ...(coding ? { coding: coding.api } : {}),
        alerts: {
          metrics: alerts.metrics,
          settings: {
            dedupeWindowMs: config.alerts.dedupeWindowMs,
            relatedWindowMs: config.alerts.relatedWindowMs,
            sources: configuredSources,
          },
        },
      });
      registerScheduleRoutes(api, scheduler);
      const site = createSiteApp(options.siteDir ?? DEFAULT_SITE_DIR, (request) => api.fetch(request));
      const cloudEvents = createCloudEventsReceiver({
        runner,
        settlement: cloudEventQueue,
        logger,
        auth: {
          token: config.server.cloudEventsToken,
          clusterLocal: config.server.cloudEventsClusterLocal,
        },
      });
      const fetch = (request: Request, env: unknown) => {
        const path = requestPath(request.url);
        if (path === "/metrics" && serveMetrics) return serveMetrics(request);
        if (path === CLOUDEVENTS_STEPS_PATH) return cloudEvents.fetch(request, env);
        return isApiPath(path) ? api.fetch(request, env) : site.fetch(request, env);
      };
      const fastPath =
        options.hookFastPath === false
          ? undefined
          : hookFastPath(hooks, { cors: (config.server.corsOrigins ?? []).length > 0 });
      const listening = await listen(fetch, config.server.host, config.server.port, fastPath);
      server = listening.server;
      port = listening.port;
      url = `http://${displayHost(config.server.host)}:${port}`;
      cleanup.unshift(() => closeServer(listening.server, config.server.shutdownGraceMs));
      print(`aat ${RUNTIME_VERSION} (role ${role}) is listening on ${url}; ${stores.description}`);
      // Only once the port is ours: a key generated by a start that then fails would never be shown.
      if (auth.mode === "none") {
        logger.warn({ authMode: "none" }, AUTH_NONE_WARNING);
        print(banner([AUTH_NONE_WARNING]));
      } else {
        bootstrap = await ensureBootstrapAdminKey(
          keys,
          auth.bootstrapAdminKey !== undefined ? { configuredKey: auth.bootstrapAdminKey } : {},
        );
        if (bootstrap.status === "generated") {
          print(
            banner([
              "First start: an admin API key was created. It is shown only this once; store it now.",
              "",
              `Admin API key: ${bootstrap.key}`,
              "",
              `Use it as the header  Authorization: Bearer ${bootstrap.key}`,
            ]),
          );
        }
      }
    } else {
      print(`aat ${RUNTIME_VERSION} (role ${role}) is working; ${stores.description}`);
    }
    // Workers serve no API: a listener of its own is how Prometheus scrapes them.
    let metricsServer: ServerType | undefined;
    let metricsPort: number | undefined;
    const metricsPortSetting = config.telemetry.metrics.port;
    if (serveMetrics && metricsPortSetting !== undefined) {
      const listening = await listen(
        (request) =>
          requestPath(request.url) === "/metrics"
            ? serveMetrics(request)
            : new Response("only /metrics here\n", { status: 404 }),
        config.server.host,
        metricsPortSetting,
      );
      metricsServer = listening.server;
      metricsPort = listening.port;
      cleanup.unshift(() => closeServer(listening.server, 0));
      print(`metrics at http://${displayHost(config.server.host)}:${metricsPort}/metrics`);
    }
    logger.info({ role, url, version: RUNTIME_VERSION, storage: stores.description }, "aat started");

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        const graceMs = config.server.shutdownGraceMs;
        const deadline = Date.now() + graceMs;
        logger.info({ graceMs }, "shutting down: no new requests or work, finishing what is in flight");
        const httpClosed = server ? closeServer(server, graceMs) : Promise.resolve();
        const metricsClosed = metricsServer ? closeServer(metricsServer, 0) : Promise.resolve();
        await scheduler.stop();
        await sweeper?.stop();
        await sync.close();
        if (worker) {
          const finished = await within(worker.stop(), deadline - Date.now());
          if (!finished) {
            const [claims, messages] = [await dedupe.releaseAll(), await queue.releaseAll()];
            logger.warn(
              { releasedClaims: claims, releasedMessages: messages },
              "steps still running after the shutdown grace were released; they run again on the next delivery",
            );
          }
        }
        await httpClosed;
        await metricsClosed;
        await mcp.close();
        await analytics.close();
        await relay?.close();
        await stores.close();
        logger.info({}, "stopped");
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })();
      return stopping;
    };

    return {
      role,
      ...(url !== undefined ? { url } : {}),
      ...(port !== undefined ? { port } : {}),
      version: RUNTIME_VERSION,
      ...(bootstrap ? { bootstrap } : {}),
      reconciled,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      runner,
      scheduler,
      plans,
      logger,
      stop,
    };
  } catch (error) {
    for (const close of cleanup) await close().catch(() => undefined);
    throw error;
  }
}

/** The API owns /v1, the health checks and nothing else; the site gets every other path. */
function isApiPath(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/") || path === "/healthz" || path === "/readyz";
}

function listen(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  hostname: string,
  port: number,
  ahead?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const onListening = (info: AddressInfo) => resolve({ server, port: info.port });
    let server: ServerType;
    if (ahead) {
      // A handler ahead of Hono answers what it takes; the rest goes to @hono/node-server's listener.
      const hono = getRequestListener(fetch, { hostname });
      const http = createHttpServer((request, response) => {
        if (!ahead(request, response)) void hono(request, response);
      });
      http.listen(port, hostname, () => onListening(http.address() as AddressInfo));
      server = http;
    } else {
      server = serve({ fetch, hostname, port }, onListening);
    }
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(
              `port ${port} on ${hostname} is already in use; stop the other process or set AAT_SERVER_PORT to a free port (0 picks one)`,
            )
          : error,
      );
    });
  });
}

/** Stop accepting connections, let running requests finish within `graceMs`, then cut the rest (SSE streams). */
function closeServer(server: ServerType, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const http = server as import("node:http").Server;
    if (!http.listening) return resolve();
    const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
    http.close(() => {
      clearTimeout(timer);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}

/** True when `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

function banner(lines: string[]): string {
  const rule = "=".repeat(78);
  return [rule, ...lines, rule].join("\n");
}
