import type { OpenAPIHono } from "@hono/zod-openapi";
import type { DedupeService } from "../dedupe/service.js";
import type { AlertsWorkflow } from "../workflows/alerts/service.js";
import type { ApiDeps, ApiEnv, ApiLogger } from "./deps.js";
import type { PlanInputValidator } from "./plan-input.js";
import type { RunStarter } from "./start-run.js";
import type { WebhookTriggers } from "./webhook-triggers.js";

/** What route modules share: the injected dependencies and the helpers built from them once. */
export interface ApiContext {
  deps: ApiDeps;
  logger: ApiLogger;
  inputs: PlanInputValidator;
  starter: RunStarter;
  triggers: WebhookTriggers;
  dedupe: DedupeService;
  /** Alert sources, store and ingestion (the alerts workflow). */
  alerts: AlertsWorkflow;
}

export type ApiApp = OpenAPIHono<ApiEnv>;

export function runLinks(runId: string): { self: string; events: string; cancel: string } {
  const self = `/v1/runs/${encodeURIComponent(runId)}`;
  return { self, events: `${self}/events`, cancel: `${self}/cancel` };
}
