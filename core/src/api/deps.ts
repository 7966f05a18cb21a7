import type { ApiKeyStore } from "../auth/api-key-store.js";
import type { AuditLog } from "../auth/audit-log.js";
import type { AuditVariables } from "../auth/audit-middleware.js";
import type { AuthMode, AuthVariables } from "../auth/middleware.js";
import type { OidcVerifier } from "../auth/oidc.js";
import type { CheckOptions } from "../plan/checks.js";
import type { KvPlanRepository } from "../plan/kv-repository.js";
import type { Planner } from "../plan/planner.js";
import type { PlanRepository } from "../plan/repository.js";
import type { Clock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import type { Queue } from "../ports/queue.js";
import type { WorkMessage } from "../runner/messages.js";
import type { Runner } from "../runner/runner.js";
import type { Secrets } from "../secrets/secrets.js";
import type { AlertMetrics } from "../workflows/alerts/metrics.js";
import type { AlertsSettings } from "../workflows/alerts/service.js";
import type { ChatService } from "../workflows/chat/service.js";
import type { CodingApiDeps } from "../workflows/coding/port.js";
import type { RunEventHub } from "./event-hub.js";
import type { AnalyticsApiDeps } from "./routes/analytics.js";

/** The configuration the API reads; the typed AatConfig fits. */
export interface ApiConfig {
  server: { bodyLimitBytes: number; corsOrigins?: readonly string[] };
  limits: { webhookReplayWindowMs: number; dedupeWindowMs: number };
  auth: { allowUnsignedWebhooks: boolean };
  /** The /v1/mcp endpoint; served with a 30 s wait when absent. */
  mcp?: { endpoint: { enabled: boolean; waitMs: number } };
}

/** Structured logging as pino does it: fields first, then the message. */
export interface ApiLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Where plans are read and published; a KvPlanRepository (or a composite that publishes into one). */
export type PlanStore = PlanRepository & Pick<KvPlanRepository, "publish">;

export interface ApiDeps {
  runner: Runner;
  plans: PlanStore;
  planner: Planner;
  kv: KeyValue;
  /** The step queue: pinged by /readyz, its dead letters listed and redriven by /v1/dead-letters. */
  queue: Pick<Queue, "name" | "ping" | "listDeadLetters" | "redrive">;
  auth: { keys: ApiKeyStore; oidc?: OidcVerifier; mode: AuthMode };
  auditLog: AuditLog;
  config: ApiConfig;
  clock: Clock;
  secrets: Secrets;
  /** Fresh throw-away stores for one dry run (the runtime passes memory adapters); closed afterwards. */
  scratch: () => { kv: KeyValue; queue: Queue<WorkMessage> };
  /** Reported by /healthz and the OpenAPI document. */
  version: string;
  /** Live wake-ups for event streams; the same hub's `publish` must be the Runner's `onEvent`. */
  events?: RunEventHub;
  /** Defaults to JSON lines on stderr. */
  logger?: ApiLogger;
  /** What plan validation knows (tool catalog, node types): pass the options the plan repository uses. */
  checks?: CheckOptions;
  /** The alerts workflow: windows, sources from configuration, and where its counters go. */
  alerts?: { settings?: AlertsSettings; metrics?: AlertMetrics };
  /** Event streams: how often to re-read the log for events of other processes, and to send keep-alives. */
  sse?: { pollMs?: number; heartbeatMs?: number };
  /** Chat sessions and turns (/v1/chat); the routes are absent without it. */
  chat?: ChatService;
  /** Analytics data sources, queries and questions (/v1/analytics); the routes are absent without it. */
  analytics?: AnalyticsApiDeps;
  /** Repositories, search, files and diffs of runs (/v1/coding); the routes are absent without it. */
  coding?: CodingApiDeps;
}

export type ApiVariables = AuthVariables & AuditVariables & { requestId: string };
export type ApiEnv = { Variables: ApiVariables };
