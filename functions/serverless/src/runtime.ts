import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  type AatConfig,
  ApiKeyStore,
  AuditLog,
  buildModelRegistry,
  ChatDeltaHub,
  type Clock,
  connectMcpServers,
  createApiApp,
  createRunner,
  DirectoryPlanRepository,
  EnvSecrets,
  ensureBootstrapAdminKey,
  type KeyValue,
  KvPlanRepository,
  LanguageModelAgent,
  loadConfig,
  Planner,
  type Queue,
  RunEventHub,
  type Runner,
  registerBuiltinTools,
  registerScheduleRoutes,
  resolveConfiguredSources,
  Scheduler,
  type StartPlanRun,
  startPlanDirectorySync,
  systemClock,
  type Tool,
  ToolRegistry,
  type WorkMessage,
} from "@aat/core";
import { alertsHook, type CompositionLogger } from "./alerts.js";
import { createChatService, oidcVerifierOf } from "./api-services.js";
import { readableThreatIntel } from "./threatintel.js";

/** What a target opened: the KV store and the step queue, and how to close both. */
export interface ServerlessStores {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  close(): Promise<void>;
}

export interface ServerlessRuntimeOptions<S extends ServerlessStores, Q extends Queue<WorkMessage>, L> {
  config: AatConfig;
  /** The stores the target opened; the runtime owns them from here (closed by close(), or on a failed build). */
  stores: S;
  logger: L;
  /** The target's settlement wrapper around the step queue (SQS batch, Pub/Sub push, Service Bus trigger). */
  wrapQueue: (queue: S["queue"]) => Q;
  /** Reported by the API (/v1/version) and to MCP servers. */
  version: string;
  clock?: Clock;
  /** Environment for secrets (webhook signing secrets, MCP headers); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Tools offered to plans beyond the built-in ones. */
  tools?: Tool[];
}

/** What one serverless instance builds once and every invocation reuses. */
export interface ServerlessRuntime<S extends ServerlessStores, Q extends Queue<WorkMessage>, L> {
  config: AatConfig;
  logger: L;
  stores: S;
  /** The step queue as the Runner uses it, wrapped by the target's settlement. */
  queue: Q;
  runner: Runner;
  scheduler: Scheduler;
  plans: KvPlanRepository;
  /** The HTTP API (Hono), the same app `npm start` serves under /v1. */
  app: { fetch(request: Request): Response | Promise<Response> };
  close(): Promise<void>;
}

/**
 * The composition every serverless target shares: built-in tools (with the alert workflow's threat-intel
 * and response-action tools), MCP servers' tools, the plan repository (plans shipped with the function
 * published once per instance, no watching), runner with the alerts triage hook, scheduler, chat and
 * the HTTP API with the alert settings and configured webhook sources. No background loops: each
 * target's handlers drive the runner and the scheduler from their triggers.
 *
 * Left out on purpose: SQL analytics (the SQL parser and drivers are not in the bundles, see
 * docs/adapters.md) and the Node-only pieces (Prometheus, the static site, CloudEvents receiver).
 */
export async function createServerlessRuntime<
  S extends ServerlessStores,
  Q extends Queue<WorkMessage>,
  L extends CompositionLogger,
>(options: ServerlessRuntimeOptions<S, Q, L>): Promise<ServerlessRuntime<S, Q, L>> {
  const { config, stores, logger, version } = options;
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const closing: Array<() => Promise<unknown>> = [() => stores.close()];
  try {
    const kv = stores.kv;
    const queue = options.wrapQueue(stores.queue);
    const tools = new ToolRegistry(options.tools ?? []);
    const secrets = new EnvSecrets(env);
    let startRun: StartPlanRun = () => Promise.reject(new Error("the runner is not built yet"));
    registerBuiltinTools(tools, {
      http: config.http,
      notes: { kv },
      startRun: (request) => startRun(request),
      alerts: {
        threatintel: readableThreatIntel(config.threatintel, logger),
        actions: config.actions,
        allowHosts: config.http.allowHosts,
        kv,
        actionTimeoutMs: config.http.timeoutMs,
        clock,
      },
    });
    // Webhook sources from alerts.sources, their secrets read now: a missing one stops the build.
    const configuredSources = await resolveConfiguredSources(config.alerts.sources, secrets, clock.now());
    // MCP servers' tools are registered before plans load (plans naming them are checked against them).
    if (Object.keys(config.mcp.servers).length > 0) {
      const mcp = await connectMcpServers(config.mcp, {
        registry: tools,
        secrets,
        logger,
        clientInfo: { name: "aat", version },
      });
      closing.unshift(() => mcp.close());
    }
    const checks = { tools };
    const plans = new KvPlanRepository(kv, { ...checks, clock });
    if (config.plans.directories.length > 0) {
      // Plans shipped with the function are published into the store once per instance (no watching).
      const directories = config.plans.directories.map((dir) => new DirectoryPlanRepository(dir, checks));
      const sync = await startPlanDirectorySync(directories, plans, { logger, watch: false });
      await sync.close();
    }
    const models = await modelRegistry(config);
    const model = new LanguageModelAgent(models);
    const events = new RunEventHub();
    // Chat turns relay the agent's text through this hub when the turn's step runs in this instance.
    const chatDeltas = new ChatDeltaHub();
    const alerts = alertsHook({ kv, clock, logger });
    const runner = createRunner({
      kv,
      queue,
      plans,
      clock,
      services: { tools, secrets, logger, model },
      onEvent: (runId, seq, event) => {
        events.publish(runId, seq, event);
        alerts.onEvent(runId, seq, event);
      },
      // Awaited by the Runner: the alert's final status is written before the step's delivery settles.
      onRunFinished: (state) => alerts.onRunFinished(state),
      onTextDelta: (runId, _stepKey, text) => chatDeltas.publish(runId, { type: "text", text }),
    });
    startRun = (request) => runner.start(request);
    const scheduler = new Scheduler({ kv, plans, runner, clock, logger });

    const keys = new ApiKeyStore(kv, clock);
    const auth = config.auth;
    if (auth.mode !== "none" && auth.bootstrapAdminKey !== undefined) {
      await ensureBootstrapAdminKey(keys, { configuredKey: auth.bootstrapAdminKey });
    }
    const oidc = oidcVerifierOf(auth, clock);
    const chat = createChatService({ config, kv, runner, plans, models, clock, events, deltas: chatDeltas });
    const app = createApiApp({
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
      version,
      events,
      logger,
      checks,
      chat,
      alerts: {
        metrics: alerts.metrics,
        settings: {
          dedupeWindowMs: config.alerts.dedupeWindowMs,
          relatedWindowMs: config.alerts.relatedWindowMs,
          sources: configuredSources,
        },
      },
    });
    registerScheduleRoutes(app, scheduler);
    return {
      config,
      logger,
      stores,
      queue,
      runner,
      scheduler,
      plans,
      app,
      async close() {
        for (const close of closing) await close();
      },
    };
  } catch (error) {
    for (const close of closing) await close().catch(() => undefined);
    throw error;
  }
}

/** What a target's `create…Runtime` accepts; every field is optional (tests pass stores, config, clock). */
export interface TargetRuntimeOptions<S extends ServerlessStores, L> {
  /** Defaults to the configuration read from `env` (and AAT_CONFIG) by core's loader. */
  config?: AatConfig;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  tools?: Tool[];
  clock?: Clock;
  logger?: L;
  /** Stores to use instead of the configured ones (tests). */
  stores?: S;
}

/** The parts that make a target: its logger, its stores, its settlement wrapper and its version. */
export interface ServerlessTarget<S extends ServerlessStores, Q extends Queue<WorkMessage>, L> {
  createLogger(level: string): L;
  openStores(config: AatConfig): Promise<S>;
  wrapQueue(queue: S["queue"]): Q;
  version: string;
}

/**
 * A target's runtime from its options: configuration from the environment once per instance (unless
 * given), the target's logger and stores, then createServerlessRuntime.
 */
export async function createTargetRuntime<
  S extends ServerlessStores,
  Q extends Queue<WorkMessage>,
  L extends CompositionLogger,
>(
  target: ServerlessTarget<S, Q, L>,
  options: TargetRuntimeOptions<S, L>,
): Promise<ServerlessRuntime<S, Q, L>> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  return createServerlessRuntime({
    config,
    env,
    logger: options.logger ?? target.createLogger(config.telemetry.logLevel),
    stores: options.stores ?? (await target.openStores(config)),
    wrapQueue: (queue) => target.wrapQueue(queue),
    version: target.version,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
  });
}

/**
 * The configured models. The offline model is core's own; the AI SDK providers (about 900 KiB of a
 * bundle) are imported only when a configured alias uses one, so a function on the offline model does
 * not evaluate them at its cold start.
 */
async function modelRegistry(config: AatConfig) {
  const providers = Object.values(config.models.providers);
  if (providers.every((provider) => provider.provider === "offline"))
    return buildModelRegistry(config.models);
  const { createModelRegistry } = await import("@aat/adapter-models");
  return createModelRegistry(config.models);
}

/**
 * One runtime per instance: built on the first call and reused by the next ones (config is read once
 * per instance). A build that failed is retried by the next call.
 */
export function reusedPerInstance<T>(): (build: () => Promise<T>) => Promise<T> {
  let shared: Promise<T> | undefined;
  return (build) => {
    shared ??= build().catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
    return shared;
  };
}
