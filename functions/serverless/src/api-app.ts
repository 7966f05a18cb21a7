import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { createApiApp, RunEventHub } from "@aat/core/api";
import { ApiKeyStore, AuditLog } from "@aat/core/auth";
import type { AatConfig } from "@aat/core/config";
import type { ModelRegistry } from "@aat/core/models";
import { type KvPlanRepository, Planner } from "@aat/core/plan";
import type { Clock, KeyValue, Queue } from "@aat/core/ports";
import type { Runner, WorkMessage } from "@aat/core/runner";
import { registerScheduleRoutes, type Scheduler } from "@aat/core/schedules";
import type { Secrets } from "@aat/core/secrets";
import type { ToolRegistry } from "@aat/core/tools";
import type { AlertMetrics, WebhookSource } from "@aat/core/workflows/alerts";
import { ChatDeltaHub } from "@aat/core/workflows/chat";
import type { CompositionLogger } from "./alerts.js";
import { createChatService, oidcVerifierOf } from "./api-services.js";

/** The built HTTP API: a Fetch app (Hono passes its env, e.g. the Lambda event, as further arguments). */
export interface ApiApp {
  fetch(request: Request, ...rest: unknown[]): Response | Promise<Response>;
}

/**
 * The HTTP API of a serverless instance over its runtime: routes (runs, plans, hooks, MCP, alerts, dead
 * letters, keys), chat, the schedule routes, OIDC when configured. Loaded by `await import()` on the
 * first HTTP request (functions/serverless/src/runtime.ts), so the worker and schedule functions do not
 * pay for it at their cold start. `hubs` are the run-event and chat-delta hubs the runner publishes to
 * from then on.
 */
export function buildApiApp(deps: {
  config: AatConfig;
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  runner: Runner;
  plans: KvPlanRepository;
  scheduler: Scheduler;
  models: ModelRegistry;
  secrets: Secrets;
  clock: Clock;
  logger: CompositionLogger;
  checks: { tools: ToolRegistry };
  version: string;
  alertMetrics: AlertMetrics;
  sources: WebhookSource[];
}): { app: ApiApp; hubs: { events: RunEventHub; deltas: ChatDeltaHub } } {
  const { config, kv, runner, plans, clock, logger } = deps;
  const events = new RunEventHub();
  // Chat turns relay the agent's text through this hub when the turn's step runs in this instance.
  const deltas = new ChatDeltaHub();
  const auth = config.auth;
  const oidc = oidcVerifierOf(auth, clock);
  const chat = createChatService({ config, kv, runner, plans, models: deps.models, clock, events, deltas });
  const app = createApiApp({
    runner,
    plans,
    planner: new Planner(plans),
    kv,
    queue: deps.queue,
    auth: { keys: new ApiKeyStore(kv, clock), mode: auth.mode, ...(oidc ? { oidc } : {}) },
    auditLog: new AuditLog(kv, clock),
    config,
    clock,
    secrets: deps.secrets,
    // Dry runs happen on throw-away memory stores, never in the real ones.
    scratch: () => ({
      kv: new MemoryKeyValue({ clock }),
      queue: new MemoryQueue<WorkMessage>({ name: `dry-run-${crypto.randomUUID()}`, clock }),
    }),
    version: deps.version,
    events,
    logger,
    checks: deps.checks,
    chat,
    alerts: {
      metrics: deps.alertMetrics,
      settings: {
        dedupeWindowMs: config.alerts.dedupeWindowMs,
        relatedWindowMs: config.alerts.relatedWindowMs,
        sources: deps.sources,
      },
    },
  });
  registerScheduleRoutes(app, deps.scheduler);
  return { app, hubs: { events, deltas } };
}
