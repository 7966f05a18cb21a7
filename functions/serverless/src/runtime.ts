import type { RunEventHub } from "@aat/core/api";
import { type AatConfig, loadConfigOnDemand } from "@aat/core/config";
import type { AgentModel, ModelRegistry } from "@aat/core/models";
// The registry alone: @aat/core/models' index also reaches the AI SDK (generateText, the agent), which a
// bundle would then load at every cold start of the HTTP handler (docs/benchmarks.md, cold start).
import { buildModelRegistry } from "@aat/core/models/registry";
import { KvPlanRepository } from "@aat/core/plan";
import { type Clock, type KeyValue, type Queue, systemClock } from "@aat/core/ports";
import { createRunner, type Runner, type WorkMessage } from "@aat/core/runner";
import { Scheduler } from "@aat/core/schedules";
import { EnvSecrets } from "@aat/core/secrets";
import { registerBuiltinTools, type StartPlanRun, type Tool, ToolRegistry } from "@aat/core/tools";
import type { ChatDeltaHub } from "@aat/core/workflows/chat";
import { alertsHook, type CompositionLogger } from "./alerts.js";
import type { ApiApp } from "./api-app.js";
import { codeCacheProblem } from "./code-cache-status.js";
import { readableThreatIntel } from "./threatintel.js";

export { reusedPerInstance } from "./reuse.js";

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
  app: { fetch(request: Request, ...rest: unknown[]): Response | Promise<Response> };
  close(): Promise<void>;
}

/**
 * The composition every serverless target shares: built-in tools (with the alert workflow's threat-intel
 * and response-action tools), MCP servers' tools, the plan repository (plans shipped with the function
 * published once per instance, no watching), runner with the alerts triage hook, scheduler, chat and
 * the HTTP API with the alert settings and configured webhook sources (built on its first request).
 * No background loops: each target's handlers drive the runner and the scheduler from their triggers.
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
    // Webhook sources from alerts.sources, their secrets read now: a missing one stops the build. The
    // sources module (its schemas) loads only when some are configured.
    const configuredSources =
      config.alerts.sources.length === 0
        ? []
        : await (await import("./alert-sources.js")).resolveConfiguredSources(
            config.alerts.sources,
            secrets,
            clock.now(),
          );
    // MCP servers' tools are registered before plans load (plans naming them are checked against them).
    // The MCP client library is loaded only when servers are configured.
    if (Object.keys(config.mcp.servers).length > 0) {
      const { connectMcpServers } = await import("@aat/core/tools/mcp");
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
      // The directory reader and the YAML parser load only then (a function without plan directories
      // never parses YAML).
      const { DirectoryPlanRepository, startPlanDirectorySync } = await import("./plan-directories.js");
      const directories = config.plans.directories.map((dir) => new DirectoryPlanRepository(dir, checks));
      const sync = await startPlanDirectorySync(directories, plans, { logger, watch: false });
      await sync.close();
    }
    const models = await modelRegistry(config);
    const model = lazyAgentModel(models);
    // The run event and chat delta hubs feed the API's streams; they exist once the API is built (before
    // that no stream can be listening in this instance, so there is nothing to publish to).
    let hubs: { events: RunEventHub; deltas: ChatDeltaHub } | undefined;
    const alerts = alertsHook({ kv, clock, logger });
    const runner = createRunner({
      kv,
      queue,
      plans,
      clock,
      services: { tools, secrets, logger, model },
      onEvent: (runId, seq, event) => {
        hubs?.events.publish(runId, seq, event);
        alerts.onEvent(runId, seq, event);
      },
      // Awaited by the Runner: the alert's final status is written before the step's delivery settles.
      onRunFinished: (state) => alerts.onRunFinished(state),
      onTextDelta: (runId, _stepKey, text) => hubs?.deltas.publish(runId, { type: "text", text }),
    });
    startRun = (request) => runner.start(request);
    const scheduler = new Scheduler({ kv, plans, runner, clock, logger });

    const auth = config.auth;
    if (auth.mode !== "none" && auth.bootstrapAdminKey !== undefined) {
      // The key store's record schemas load only here and with the API: a worker never reads keys.
      const { ApiKeyStore, ensureBootstrapAdminKey } = await import("./api-keys.js");
      await ensureBootstrapAdminKey(new ApiKeyStore(kv, clock), { configuredKey: auth.bootstrapAdminKey });
    }
    // The HTTP API (routes, OpenAPI, chat, OIDC) is built on its first request: a worker or a schedule
    // function never serves HTTP, so it never loads that code (see docs/benchmarks.md, cold start).
    const app = lazyApp(async () => {
      const { buildApiApp } = await import("./api-app.js");
      const built = buildApiApp({
        config,
        kv,
        queue,
        runner,
        plans,
        scheduler,
        models,
        secrets,
        clock,
        logger,
        checks,
        version,
        alertMetrics: alerts.metrics,
        sources: configuredSources,
      });
      hubs = built.hubs;
      return built.app;
    });
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

/**
 * A Fetch app built on its first request and reused; a build that failed is tried again by the next
 * request. Extra arguments (Hono's env, e.g. the Lambda event) are passed through.
 */
function lazyApp(build: () => Promise<ApiApp>): ServerlessRuntime<ServerlessStores, never, never>["app"] {
  let built: Promise<ApiApp> | undefined;
  return {
    async fetch(request: Request, ...rest: unknown[]) {
      built ??= build().catch((error: unknown) => {
        built = undefined;
        throw error;
      });
      return (await built).fetch(request, ...rest);
    },
  };
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
  // The config file's YAML reader is loaded only when AAT_CONFIG names a file.
  const config = options.config ?? (await loadConfigOnDemand({ env })).config;
  const logger = options.logger ?? target.createLogger(config.telemetry.logLevel);
  const cacheProblem = codeCacheProblem();
  if (cacheProblem)
    logger.warn(
      { codeCache: cacheProblem },
      `the bundle's V8 code cache is not used (${cacheProblem.state}): cold starts compile from source`,
    );
  return createServerlessRuntime({
    config,
    env,
    logger,
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
 * The agent steps' model port, with the AI SDK (about 240 KiB of a bundle) loaded when the first agent
 * step asks the model, not at the cold start: a worker whose first messages are HTTP calls, approvals or
 * transforms never waits for it. Behaves exactly as LanguageModelAgent (it is one, once loaded).
 */
function lazyAgentModel(models: ModelRegistry): AgentModel {
  let agent: Promise<AgentModel> | undefined;
  const load = () => {
    agent ??= import("./agent-model.js").then(({ createAgentModel }) => createAgentModel(models));
    return agent;
  };
  return {
    catalog: models,
    turn: async (request) => (await load()).turn(request),
    stream: async (request, onTextDelta) => {
      const loaded = await load();
      return loaded.stream ? loaded.stream(request, onTextDelta) : loaded.turn(request);
    },
  };
}
