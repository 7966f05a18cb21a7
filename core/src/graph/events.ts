import { z } from "zod";
import { WORKFLOWS } from "../plan/schema.js";
import type { RunEvent } from "./types.js";

/**
 * RunEvent as a zod schema, for events that cross a boundary (an API call granting an approval, a
 * log read back from storage, a message from another process). The decider itself trusts its input.
 */

const at = z.number().finite();
const key = z.string().min(1);
const attempt = z.number().int().min(1);
const resume = z.number().int().min(1).optional();

export const stepErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
  details: z.unknown().optional(),
});

const approvalRequest = z.object({
  message: z.string().optional(),
  approvers: z.array(z.string()),
  proposal: z.unknown().optional(),
});

export const suspensionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("timer"), until: z.number().finite() }),
  z.object({ kind: z.literal("approval"), request: approvalRequest }),
  z.object({
    kind: z.literal("fanout"),
    items: z.array(z.unknown()).optional(),
    count: z.number().int().min(0).optional(),
  }),
  z.object({
    kind: z.literal("child_run"),
    planId: z.string().min(1),
    version: z.number().int().min(1).optional(),
    input: z.unknown(),
  }),
]);

const parentLink = z.object({ runId: z.string().min(1), key, attempt });

export const runEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("run.started"),
    at,
    runId: z.string().min(1),
    plan: z.object({ id: z.string().min(1), version: z.number().int().min(1), workflow: z.enum(WORKFLOWS) }),
    input: z.unknown(),
    parent: parentLink.optional(),
    trace: z.record(z.string(), z.string()).optional(),
  }),
  z.object({ type: z.literal("step.started"), at, key, attempt, resume }),
  z.object({
    type: z.literal("step.succeeded"),
    at,
    key,
    attempt,
    resume,
    output: z.unknown(),
    next: z.string().optional(),
  }),
  z.object({ type: z.literal("step.skipped"), at, key, attempt, resume }),
  z.object({
    type: z.literal("step.progress"),
    at,
    key,
    attempt,
    resume,
    seq: z.number().int().min(1),
    progress: z.looseObject({
      kind: z.string().min(1),
      usage: z
        .object({
          inputTokens: z.number(),
          outputTokens: z.number(),
          totalTokens: z.number(),
          estimated: z.boolean().optional(),
        })
        .optional(),
      cost: z.number().optional(),
    }),
  }),
  z.object({ type: z.literal("step.suspended"), at, key, attempt, resume, suspension: suspensionSchema }),
  z.object({ type: z.literal("step.failed"), at, key, attempt, resume, error: stepErrorSchema }),
  z.object({ type: z.literal("step.timed_out"), at, key, attempt, resume }),
  z.object({ type: z.literal("step.dead_lettered"), at, key, attempt, resume, reason: z.string() }),
  z.object({ type: z.literal("step.redriven"), at, key, attempt, by: z.string().optional() }),
  z.object({
    type: z.literal("approval.granted"),
    at,
    key,
    by: z.string().min(1),
    rationale: z.string().optional(),
  }),
  z.object({
    type: z.literal("approval.denied"),
    at,
    key,
    by: z.string().min(1),
    rationale: z.string().optional(),
  }),
  z.object({ type: z.literal("timer.fired"), at, timerId: z.string().min(1) }),
  z.object({
    type: z.literal("run.cancelled"),
    at,
    by: z.string().optional(),
    reason: z.string().optional(),
  }),
]) satisfies z.ZodType<RunEvent>;
