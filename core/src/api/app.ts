import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { audit } from "../auth/audit-middleware.js";
import { type AuthEnv, authenticate } from "../auth/middleware.js";
import { DedupeService } from "../dedupe/service.js";
import { TRIAGE_EVENT, TRIAGE_WORKFLOW } from "../workflows/alerts/ocsf.js";
import { createAlertsWorkflow } from "../workflows/alerts/service.js";
import { limitBody } from "./body-limit.js";
import type { ApiContext } from "./context.js";
import type { ApiDeps, ApiEnv } from "./deps.js";
import { handleError, problemResponse, stderrLogger } from "./errors.js";
import { HookEndpoint } from "./hook-endpoint.js";
import { describeKeyRoutes, mountKeyRoutes } from "./key-routes.js";
import { SECURITY_SCHEMES } from "./openapi-route.js";
import { PlanInputValidator } from "./plan-input.js";
import { ApiProblem, zodProblemErrors } from "./problem.js";
import { requestId } from "./request-id.js";
import { registerAlertEventRoutes } from "./routes/alert-events.js";
import { registerAlertSourceRoutes } from "./routes/alert-sources.js";
import { registerAlertWebhookRoutes } from "./routes/alert-webhooks.js";
import { registerAlertRoutes } from "./routes/alerts.js";
import { registerAnalyticsRoutes } from "./routes/analytics.js";
import { registerApprovalRoutes } from "./routes/approvals.js";
import { registerChatRoutes } from "./routes/chat.js";
import { registerCodingRoutes } from "./routes/coding.js";
import { registerDeadLetterRoutes } from "./routes/dead-letters.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerHookRoutes } from "./routes/hooks.js";
import { registerMcpRoutes } from "./routes/mcp.js";
import { registerPlanRoutes } from "./routes/plans.js";
import { registerRunRoutes } from "./routes/runs.js";
import { RunStarter } from "./start-run.js";
import { traceRequests } from "./tracing.js";
import { WebhookTriggers } from "./webhook-triggers.js";

export const OPENAPI_PATH = "/v1/openapi.json";

/** Where a validation error's path starts, by what was validated. */
const TARGET_PREFIX: Record<string, string> = { query: "query", param: "path", header: "headers", json: "" };

/**
 * The HTTP API as a Hono app. It knows nothing about where it runs: the Node runtime serves it with
 * @hono/node-server, cloud handlers pass it their requests (`app.fetch`), tests call `app.request`.
 */
export function createApiApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  return createApi(deps).app;
}

/**
 * The Hono app and, sharing its dependencies, POST /v1/hooks/:triggerId as a framework-free endpoint
 * that a plain HTTP server can answer ahead of the app (see HookEndpoint).
 */
export function createApi(deps: ApiDeps): { app: OpenAPIHono<ApiEnv>; hooks: HookEndpoint } {
  const logger = deps.logger ?? stderrLogger;
  const inputs = new PlanInputValidator();
  const starter = new RunStarter({
    runner: deps.runner,
    plans: deps.plans,
    planner: deps.planner,
    kv: deps.kv,
    inputs,
    idempotencyTtlMs: deps.config.limits.dedupeWindowMs,
  });
  const dedupe = new DedupeService({ kv: deps.kv, clock: deps.clock });
  const ctx: ApiContext = {
    deps,
    logger,
    inputs,
    starter,
    triggers: new WebhookTriggers(deps.plans),
    dedupe,
    alerts: createAlertsWorkflow({
      kv: deps.kv,
      clock: deps.clock,
      dedupe,
      toleranceMs: deps.config.limits.webhookReplayWindowMs,
      ...(deps.alerts?.settings ? { settings: deps.alerts.settings } : {}),
      ...(deps.alerts?.metrics ? { metrics: deps.alerts.metrics } : {}),
      // The idempotent start: keyed by alert id, a retry after a crash finds the same run.
      startTriage: (alert, sourceId) =>
        starter.start(
          {
            workflow: TRIAGE_WORKFLOW,
            event: TRIAGE_EVENT,
            input: { alert },
            idempotencyKey: `alert:${alert.id}`,
          },
          `webhook-source:${sourceId}`,
        ),
    }),
  };

  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const body = result.target === "json";
      throw new ApiProblem(body ? 422 : 400, {
        kind: "validation",
        detail: body
          ? "the request body is invalid; errors names each field"
          : `invalid ${result.target === "param" ? "path" : result.target} parameters; errors names each`,
        errors: zodProblemErrors(result.error.issues, TARGET_PREFIX[result.target] ?? result.target),
      });
    },
  });

  app.use("*", traceRequests());
  const corsOrigins = deps.config.server.corsOrigins ?? [];
  // Only listed origins: the site on a static host (S3, GCS, Static Web Apps) calling the API elsewhere.
  if (corsOrigins.length > 0) {
    app.use(
      "*",
      cors({
        origin: [...corsOrigins],
        allowHeaders: ["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key", "Last-Event-ID"],
        exposeHeaders: ["Location", "X-Request-Id", "Retry-After"],
        maxAge: 600,
      }),
    );
  }
  app.use("*", requestId());
  app.use(
    "*",
    limitBody({
      maxSize: deps.config.server.bodyLimitBytes,
      onError: (c) =>
        problemResponse(
          c,
          new ApiProblem(413, {
            kind: "payload-too-large",
            detail: `the request body is larger than ${deps.config.server.bodyLimitBytes} bytes (server.bodyLimitBytes, AAT_SERVER_BODY_LIMIT_BYTES)`,
          }),
        ),
    }),
  );
  // Audit wraps authentication so refused calls are recorded too.
  app.use(
    "/v1/*",
    audit(deps.auditLog, {
      onRecordError: (error, entry) =>
        logger.error(
          { error: error instanceof Error ? error.message : String(error), entry },
          "audit entry could not be written",
        ),
    }),
  );
  app.use("/v1/*", unlessPublic(authenticate(deps.auth)));

  registerHealthRoutes(app, ctx);
  registerRunRoutes(app, ctx);
  registerApprovalRoutes(app, ctx);
  registerPlanRoutes(app, ctx);
  registerHookRoutes(app, ctx);
  registerMcpRoutes(app, ctx);
  registerDeadLetterRoutes(app, ctx);
  registerAlertWebhookRoutes(app, ctx);
  registerAlertSourceRoutes(app, ctx);
  registerAlertRoutes(app, ctx);
  registerAlertEventRoutes(app, ctx);
  if (deps.chat) registerChatRoutes(app, ctx, deps.chat);
  if (deps.analytics) registerAnalyticsRoutes(app, ctx, deps.analytics);
  if (deps.coding) registerCodingRoutes(app, ctx, deps.coding);
  mountKeyRoutes(app, deps.auth.keys);
  describeKeyRoutes(app);

  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: {
      title: "AI Agent Tool API",
      version: deps.version,
      description:
        "Runs, approvals, plans and webhooks of aat. Every route lists the roles it allows in x-aat-roles (admin is always allowed). Errors are application/problem+json.",
    },
    tags: [
      { name: "runs", description: "Start, list, inspect, stream and cancel runs." },
      { name: "approvals", description: "Decide steps waiting for a person." },
      { name: "plans", description: "Read, validate, dry-run and publish plans." },
      { name: "hooks", description: "Webhook triggers of plans." },
      { name: "mcp", description: "Model Context Protocol: published plans as tools for MCP clients." },
      { name: "chat", description: "Chat sessions; each message runs the chat plan and streams its reply." },
      { name: "alerts", description: "Alert sources, webhook ingestion and the alert store." },
      {
        name: "analytics",
        description:
          "Data sources, read-only SQL, questions in words (runs of analytics.ask), saved questions.",
      },
      {
        name: "coding",
        description:
          "Repositories (local or git), their index, search, symbols and files; coding runs and the diffs they propose, applied after approval.",
      },
      { name: "dead-letters", description: "Step messages the queue gave up on: inspect and redrive." },
      { name: "keys", description: "API keys (admin)." },
      { name: "health", description: "Liveness and readiness." },
    ],
  });

  app.notFound((c) =>
    problemResponse(
      c,
      new ApiProblem(404, {
        kind: "not-found",
        detail: `no route ${c.req.method} ${c.req.path}; the routes are listed in ${OPENAPI_PATH}`,
      }),
    ),
  );
  app.onError((error, c) => handleError(error, c, logger));
  return { app, hooks: new HookEndpoint(ctx) };
}

/** Health checks, the OpenAPI document and webhooks (verified by signature) need no credentials. */
function unlessPublic(middleware: MiddlewareHandler<AuthEnv>): MiddlewareHandler<ApiEnv> {
  return (c, next) => {
    const path = c.req.path;
    if (path === OPENAPI_PATH || path.startsWith("/v1/hooks/")) return next();
    // Alert deliveries are verified by their source's credentials; /test under it needs an API key.
    if (c.req.method === "POST" && /^\/v1\/webhooks\/[^/]+\/?$/.test(path)) return next();
    // ApiEnv's variables include AuthVariables; Hono's Context is invariant in its env, hence the cast.
    return middleware(c as unknown as Context<AuthEnv>, next);
  };
}
