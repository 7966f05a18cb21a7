import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  type AatConfig,
  ApiKeyStore,
  AuditLog,
  buildModelRegistry,
  type Clock,
  createApiApp,
  createRunner,
  DirectoryPlanRepository,
  EnvSecrets,
  ensureBootstrapAdminKey,
  KvPlanRepository,
  LanguageModelAgent,
  loadConfig,
  OidcVerifier,
  Planner,
  RunEventHub,
  type Runner,
  registerBuiltinTools,
  registerScheduleRoutes,
  Scheduler,
  type StartPlanRun,
  startPlanDirectorySync,
  systemClock,
  type Tool,
  ToolRegistry,
  type WorkMessage,
} from "@aat/core";
import { type AzureLogger, createAzureLogger } from "./logger.js";
import { TriggerSettlementQueue } from "./settlement.js";
import { type AzureStores, openAzureStores } from "./stores.js";

export const AZURE_RUNTIME_VERSION = "0.1.0";

export interface AzureRuntimeOptions {
  /** Defaults to the configuration read from process.env (and AAT_CONFIG) by core's loader. */
  config?: AatConfig;
  env?: Readonly<Record<string, string | undefined>>;
  tools?: Tool[];
  clock?: Clock;
  logger?: AzureLogger;
  /** Stores to use instead of the configured ones (tests). */
  stores?: AzureStores;
}

/** What one Functions worker process builds once and every invocation reuses. */
export interface AzureRuntime {
  config: AatConfig;
  logger: AzureLogger;
  stores: AzureStores;
  /** The step queue as the Runner uses it: trigger deliveries are settled by the handler's outcome. */
  queue: TriggerSettlementQueue;
  runner: Runner;
  scheduler: Scheduler;
  plans: KvPlanRepository;
  /** The HTTP API (Hono), the same app `npm start` serves under /v1. */
  app: { fetch(request: Request): Response | Promise<Response> };
  close(): Promise<void>;
}

/**
 * Builds the runtime of an Azure Functions worker: configuration (env, i.e. app settings, through core's
 * loader), stores, plan repository, runner, scheduler and the HTTP API. No background loops: the worker
 * is driven by the Service Bus trigger, the scheduler by the timer trigger.
 */
export async function createAzureRuntime(options: AzureRuntimeOptions = {}): Promise<AzureRuntime> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createAzureLogger(config.telemetry.logLevel);
  const stores = options.stores ?? (await openAzureStores(config));
  const closing: Array<() => Promise<unknown>> = [() => stores.close()];
  try {
    const kv = stores.kv;
    const queue = new TriggerSettlementQueue(stores.queue);
    const tools = new ToolRegistry(options.tools ?? []);
    let startRun: StartPlanRun = () => Promise.reject(new Error("the runner is not built yet"));
    registerBuiltinTools(tools, {
      http: config.http,
      notes: { kv },
      startRun: (request) => startRun(request),
    });
    const checks = { tools };
    const plans = new KvPlanRepository(kv, { ...checks, clock });
    if (config.plans.directories.length > 0) {
      // Plans shipped with the function app are published into the store once per worker (no watching).
      const directories = config.plans.directories.map((dir) => new DirectoryPlanRepository(dir, checks));
      const sync = await startPlanDirectorySync(directories, plans, { logger, watch: false });
      await sync.close();
    }
    const secrets = new EnvSecrets(env);
    const model = new LanguageModelAgent(await modelRegistry(config));
    const events = new RunEventHub();
    const runner = createRunner({
      kv,
      queue,
      plans,
      clock,
      services: { tools, secrets, logger, model },
      onEvent: (runId, seq, event) => events.publish(runId, seq, event),
    });
    startRun = (request) => runner.start(request);
    const scheduler = new Scheduler({ kv, plans, runner, clock, logger });

    const keys = new ApiKeyStore(kv, clock);
    const auth = config.auth;
    if (auth.mode !== "none" && auth.bootstrapAdminKey !== undefined) {
      await ensureBootstrapAdminKey(keys, { configuredKey: auth.bootstrapAdminKey });
    }
    const oidc =
      auth.mode === "oidc"
        ? new OidcVerifier({
            issuer: auth.oidc.issuer,
            audience: auth.oidc.audience,
            ...(auth.oidc.jwksUrl !== undefined ? { jwksUrl: auth.oidc.jwksUrl } : {}),
            clock,
          })
        : undefined;
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
      scratch: () => ({
        kv: new MemoryKeyValue({ clock }),
        queue: new MemoryQueue<WorkMessage>({ name: `dry-run-${crypto.randomUUID()}`, clock }),
      }),
      version: AZURE_RUNTIME_VERSION,
      events,
      logger,
      checks,
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

/**
 * The configured models. The offline model is core's own; the AI SDK providers (about 900 KiB of the
 * bundle) are imported only when a configured alias uses one, so a function on the offline model, or one
 * that never runs an agent step with a real provider, does not evaluate them at its cold start.
 */
async function modelRegistry(config: AatConfig) {
  const providers = Object.values(config.models.providers);
  if (providers.every((provider) => provider.provider === "offline"))
    return buildModelRegistry(config.models);
  const { createModelRegistry } = await import("@aat/adapter-models");
  return createModelRegistry(config.models);
}

let shared: Promise<AzureRuntime> | undefined;

/**
 * The worker's runtime, built on the first invocation and reused by the next ones (config is read once
 * per worker process). A build that failed is retried by the next invocation.
 */
export function workerRuntime(
  build: () => Promise<AzureRuntime> = createAzureRuntime,
): Promise<AzureRuntime> {
  shared ??= build().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
