import { z } from "zod";
import { PLAN_ID_MESSAGE, PLAN_ID_PATTERN, WORKFLOWS } from "../plan/schema.js";
import { problemSchema } from "./problem.js";

/** The plan schema's `planId` (zod/mini there) as a classic schema, for the OpenAPI routes. */
const planIdSchema = z.string().regex(PLAN_ID_PATTERN, PLAN_ID_MESSAGE);

/**
 * Request and response bodies of the HTTP API. Requests are validated with these schemas; responses
 * are described by them in the OpenAPI document (GET /v1/openapi.json).
 */

const RUN_STATUSES = ["running", "waiting", "succeeded", "failed", "cancelled"] as const;
const STEP_STATUSES = [
  "queued",
  "running",
  "retrying",
  "waiting_approval",
  "approved",
  "rejected",
  "succeeded",
  "failed",
  "skipped",
  "dead_lettered",
  "cancelled",
] as const;

const epochMs = () => z.number().meta({ description: "Epoch milliseconds." });

export const workflowSchema = z.enum(WORKFLOWS).meta({ id: "Workflow" });
export const runStatusSchema = z.enum(RUN_STATUSES).meta({ id: "RunStatus" });

export const stepErrorSchema = z
  .object({
    message: z.string(),
    code: z.string().optional(),
    retryable: z.boolean().optional(),
    details: z.unknown().optional(),
  })
  .meta({ id: "StepError" });

export const stepStateSchema = z
  .object({
    key: z
      .string()
      .meta({ description: "Instance key: the step id, prefixed inside map iterations (`enrich[2]/ask`)." }),
    stepId: z.string(),
    status: z.enum(STEP_STATUSES),
    attempt: z.number().int(),
    output: z.unknown().optional(),
    error: stepErrorSchema.optional(),
    queuedAt: epochMs().optional(),
    startedAt: epochMs().optional(),
    finishedAt: epochMs().optional(),
    entries: z.number().int().optional(),
    entryAttempt: z.number().int().optional(),
    suspended: z.enum(["timer", "approval", "fanout", "child_run"]).optional(),
    fanout: z.unknown().optional(),
    approval: z
      .object({
        request: z.object({
          message: z.string().optional(),
          approvers: z.array(z.string()),
          proposal: z.unknown().optional(),
        }),
        decision: z
          .object({
            approved: z.boolean(),
            by: z.string(),
            rationale: z.string().optional(),
            at: epochMs(),
          })
          .optional(),
      })
      .optional(),
    waitUntil: epochMs().optional(),
    childRunId: z.string().optional(),
    childRun: z.unknown().optional(),
    resumes: z.number().int().optional().meta({
      description: "Times the attempt ran again after an approval (agent steps' dangerous tool calls).",
    }),
    progress: z
      .object({
        seq: z.number().int(),
        rounds: z.number().int(),
        toolCalls: z.number().int(),
        usage: z
          .object({
            inputTokens: z.number(),
            outputTokens: z.number(),
            totalTokens: z.number(),
            estimated: z.boolean().optional(),
          })
          .optional(),
        cost: z.number().optional(),
      })
      .optional()
      .meta({
        description:
          "Agent steps: model rounds, tool calls, tokens and cost so far (summed from the step.progress events).",
      }),
  })
  .meta({ id: "StepState" });

export const runStateSchema = z
  .object({
    runId: z.string(),
    plan: z.object({ id: z.string(), version: z.number().int(), workflow: workflowSchema }),
    status: runStatusSchema,
    version: z.number().int().meta({ description: "Events applied so far (the seq of the last event)." }),
    input: z.unknown(),
    startedAt: epochMs(),
    updatedAt: epochMs(),
    finishedAt: epochMs().optional(),
    steps: z.record(z.string(), stepStateSchema),
    output: z.unknown().optional(),
    error: stepErrorSchema.optional(),
    parent: z.object({ runId: z.string(), key: z.string(), attempt: z.number().int() }).optional(),
    activity: z.object({ busy: z.number().int(), waiting: z.number().int() }).optional(),
    trace: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: "The run's trace context (W3C traceparent) when tracing is on." }),
  })
  .meta({ id: "RunState" });

export const loggedEventSchema = z
  .object({
    seq: z.number().int().min(1),
    event: z
      .object({ type: z.string(), at: epochMs() })
      .catchall(z.unknown())
      .meta({ description: "A run event (run.started, step.succeeded, approval.granted, …)." }),
  })
  .meta({ id: "LoggedEvent" });

export const runLinksSchema = z
  .object({ self: z.string(), events: z.string(), cancel: z.string() })
  .meta({ id: "RunLinks" });

// ---- runs ----

export const startRunBodySchema = z
  .strictObject({
    workflow: workflowSchema
      .optional()
      .meta({ description: "Let the planner choose the plan of this workflow whose match rules fit." }),
    event: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Event type given to the planner's match rules (with `workflow`)." }),
    planId: planIdSchema
      .optional()
      .meta({ description: "Start this plan (its current version unless `version`)." }),
    version: z.number().int().min(1).optional(),
    input: z
      .unknown()
      .optional()
      .meta({ description: "The run input; checked against the plan's `inputs` schema." }),
    idempotencyKey: z.string().min(1).max(200).optional().meta({
      description: "Repeating a request with the same key returns the same run instead of starting another.",
    }),
  })
  .refine((body) => body.planId !== undefined || body.workflow !== undefined, {
    message: "give planId (start that plan) or workflow (let the planner choose)",
    path: ["planId"],
  })
  .refine((body) => body.version === undefined || body.planId !== undefined, {
    message: "version pins a version of planId: give planId as well",
    path: ["version"],
  })
  .meta({ id: "StartRunRequest" });

export const startRunResponseSchema = z
  .object({
    runId: z.string(),
    status: runStatusSchema,
    plan: z.object({ id: z.string(), version: z.number().int() }),
    created: z
      .boolean()
      .meta({ description: "False when an earlier request with this idempotencyKey started it." }),
    links: runLinksSchema,
  })
  .meta({ id: "StartRunResponse" });

export const runSummarySchema = z
  .object({
    runId: z.string(),
    planId: z.string(),
    planVersion: z.number().int(),
    workflow: workflowSchema,
    status: runStatusSchema,
    startedAt: epochMs(),
    updatedAt: epochMs(),
    finishedAt: epochMs().optional(),
    parentRunId: z.string().optional(),
  })
  .meta({ id: "RunSummary" });

const timeParam = z
  .string()
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: "expected an ISO-8601 time or epoch milliseconds" });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: "ISO-8601 time or epoch milliseconds." });

export const listRunsQuerySchema = z.object({
  workflow: workflowSchema.optional(),
  status: runStatusSchema.optional().meta({
    description: "Filter by status (read from run snapshots: the index is scanned, so this is slower).",
  }),
  plan: planIdSchema.optional().meta({ description: "Only runs of this plan id." }),
  since: timeParam.optional().meta({ description: "Only runs started at or after this time." }),
  until: timeParam.optional().meta({ description: "Only runs started before this time." }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).optional().meta({ description: "nextCursor of the previous page." }),
});

export const listRunsResponseSchema = z
  .object({
    items: z.array(runSummarySchema),
    nextCursor: z.string().optional().meta({
      description: "Present when more runs may follow (a page may be short when filters skip many runs).",
    }),
    scanned: z.number().int().meta({ description: "Index entries read for this page." }),
  })
  .meta({ id: "RunList" });

export const runIdParamsSchema = z.object({ id: z.string().min(1).max(300) });

export const getRunQuerySchema = z.object({
  eventsAfter: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .meta({ description: "Return log events after this seq." }),
  eventsLimit: z.coerce.number().int().min(0).max(500).default(100),
});

export const getRunResponseSchema = z
  .object({
    run: runStateSchema,
    events: z.object({
      items: z.array(loggedEventSchema),
      nextAfter: z.number().int().optional().meta({
        description: "Pass as eventsAfter to read on; absent when the page reached the end of the log.",
      }),
    }),
    links: runLinksSchema,
  })
  .meta({ id: "RunDetail" });

export const cancelBodySchema = z
  .strictObject({ reason: z.string().max(2000).optional() })
  .meta({ id: "CancelRunRequest" });

export const runStatusResponseSchema = z
  .object({ runId: z.string(), status: runStatusSchema, version: z.number().int() })
  .meta({ id: "RunStatusResponse" });

export const stepParamsSchema = z.object({
  id: z.string().min(1).max(300),
  stepId: z
    .string()
    .min(1)
    .max(500)
    .meta({ description: "Step instance key, URL-encoded: `enrich%5B2%5D%2Fask` for `enrich[2]/ask`." }),
});

export const decisionBodySchema = z
  .strictObject({ rationale: z.string().max(4000).optional() })
  .meta({ id: "ApprovalDecisionRequest" });

export const eventsQuerySchema = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: "Resume after this seq (the Last-Event-ID header wins when both are given)." }),
});

// ---- plans ----

export const planSummarySchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    workflow: workflowSchema,
    title: z.string(),
    description: z.string().optional(),
    origin: z.enum(["directory", "kv"]),
  })
  .meta({ id: "PlanSummary" });

export const planVersionInfoSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    origin: z.enum(["directory", "kv"]),
    hash: z.string(),
    publishedAt: epochMs().optional(),
    publishedBy: z.string().optional(),
    file: z.string().optional(),
  })
  .meta({ id: "PlanVersionInfo" });

export const planIdParamsSchema = z.object({ id: planIdSchema });
export const planVersionParamsSchema = z.object({ id: planIdSchema, v: z.coerce.number().int().min(1) });

export const planDetailSchema = z
  .object({ plan: planSummarySchema, versions: z.array(planVersionInfoSchema) })
  .meta({ id: "PlanDetail" });

export const planVersionSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    definition: z.record(z.string(), z.unknown()).meta({ description: "The parsed plan definition." }),
    source: z.string().meta({ description: "The YAML text of this version." }),
    origin: z.enum(["directory", "kv"]),
    publishedAt: epochMs().optional(),
    publishedBy: z.string().optional(),
  })
  .meta({ id: "PlanVersion" });

export const yamlBodySchema = z
  .strictObject({ yaml: z.string().meta({ description: "The plan's YAML text." }) })
  .meta({ id: "PlanYamlRequest" });

export const planErrorSchema = z
  .object({
    line: z.number().int(),
    column: z.number().int(),
    path: z.string(),
    message: z.string(),
    formatted: z.string(),
  })
  .meta({ id: "PlanError" });

export const validateResponseSchema = z
  .object({
    valid: z.boolean(),
    errors: z.array(planErrorSchema),
    plan: z
      .object({ id: z.string(), version: z.number().int(), workflow: workflowSchema, title: z.string() })
      .optional(),
  })
  .meta({ id: "PlanValidation" });

export const publishResponseSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    unchanged: z
      .boolean()
      .meta({ description: "True when the content equals the current version: nothing was written." }),
    hash: z.string(),
    publishedAt: epochMs(),
  })
  .meta({ id: "PlanPublishResult" });

export const dryRunBodySchema = z
  .strictObject({
    yaml: z.string().optional().meta({ description: "A plan to try without publishing it." }),
    planId: planIdSchema.optional().meta({ description: "Or a published plan." }),
    version: z.number().int().min(1).optional(),
    input: z.unknown().optional(),
    stubs: z.record(z.string(), z.unknown()).default({}).meta({
      description: "Output of each tool or agent step, keyed by step id or (tool steps) tool name.",
    }),
  })
  .refine((body) => (body.yaml === undefined) !== (body.planId === undefined), {
    message: "give exactly one of yaml (a plan text) or planId (a published plan)",
    path: ["yaml"],
  })
  .meta({ id: "DryRunRequest" });

export const dryRunResponseSchema = z
  .object({
    run: runStateSchema,
    events: z.array(loggedEventSchema),
    complete: z.boolean().meta({ description: "True when the run reached a final status." }),
    waitingFor: z
      .array(
        z.object({
          key: z.string(),
          reason: z.enum(["approval", "timer", "work"]),
          until: epochMs().optional(),
        }),
      )
      .meta({
        description:
          "What an unfinished dry run stopped at: approvals wait for a person, timers are not fast-forwarded.",
      }),
    stubbed: z.array(z.string()).meta({ description: "Step keys that used a stub output." }),
    notes: z.array(z.string()),
  })
  .meta({ id: "DryRunResult" });

// ---- hooks and health ----

/** What a webhook trigger id may hold (the route checks it with this pattern directly). */
export const TRIGGER_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
export const hookParamsSchema = z.object({ triggerId: z.string().regex(TRIGGER_ID_PATTERN) });

export const hookResponseSchema = z
  .object({
    runId: z.string(),
    duplicate: z
      .boolean()
      .meta({ description: "True when this delivery was seen before: runId is the run it started." }),
  })
  .meta({ id: "HookAccepted" });

export const healthSchema = z.object({ status: z.literal("ok"), version: z.string() }).meta({ id: "Health" });

export const readySchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    checks: z.record(z.string(), z.enum(["ok", "failed"])),
  })
  .meta({ id: "Readiness" });

export const notReadySchema = problemSchema
  .extend({ checks: z.record(z.string(), z.enum(["ok", "failed"])) })
  .meta({ id: "NotReady" });
