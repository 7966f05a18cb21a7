import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { DeadLetter } from "../../ports/queue.js";
import { workMessage } from "../../runner/messages.js";
import type { ApiApp, ApiContext } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";

const epochMs = () => z.number().meta({ description: "Epoch milliseconds." });

const listQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .meta({ description: "At most this many letters, oldest first." }),
});

const deadLetterSchema = z
  .object({
    id: z.string().meta({ description: "Pass it to POST /v1/dead-letters/{id}/redrive." }),
    kind: z.enum(["execute", "timer", "unknown"]).meta({
      description:
        "execute: a step attempt; timer: a wait or timeout firing; unknown: a body that is no work message (it can only be inspected).",
    }),
    runId: z.string().optional(),
    stepKey: z.string().optional().meta({ description: "The step's instance key (execute messages)." }),
    stepId: z.string().optional(),
    attempt: z.number().int().optional(),
    timerId: z.string().optional(),
    reason: z
      .string()
      .meta({ description: "Why it was given up: the last failure, or the queue's own reason." }),
    deliveryCount: z.number().int().meta({ description: "Deliveries it had." }),
    deadLetteredAt: epochMs(),
    body: z.unknown().meta({ description: "The message body as published." }),
  })
  .meta({ id: "DeadLetter" });

const listResponseSchema = z
  .object({ items: z.array(deadLetterSchema), queue: z.string() })
  .meta({ id: "DeadLetterList" });

const redriveParamsSchema = z.object({ id: z.string().min(1).max(300) });

const redriveResponseSchema = z
  .object({
    id: z.string(),
    redriven: z.literal(true),
    resumed: z.boolean().meta({
      description:
        "True when the letter was a step the runner itself had dead-lettered, whose run had failed because of it: the run is running again and the step has a fresh attempt.",
    }),
  })
  .meta({ id: "DeadLetterRedriven" });

const listRoute = createRoute({
  method: "get",
  path: "/v1/dead-letters",
  tags: ["dead-letters"],
  summary: "List the step queue's dead letters",
  description:
    "Messages the queue gave up on after its maximum deliveries (or that the worker could not handle), oldest first, each with its reason. Work messages are parsed: runId, stepKey and attempt say which step attempt it was; that step shows `dead_lettered` in its run.",
  ...allowRoles("responder"),
  request: { query: listQuerySchema },
  responses: {
    200: {
      description: "The dead letters.",
      content: { "application/json": { schema: listResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 503),
  },
});

const redriveRoute = createRoute({
  method: "post",
  path: "/v1/dead-letters/{id}/redrive",
  tags: ["dead-letters"],
  summary: "Send a dead letter back to the queue",
  description:
    "Publishes the letter again with a fresh delivery count and removes it from the dead-letter store; a worker then handles it like any message. When the runner itself dead-lettered the step after its maximum deliveries and the run failed because of it, the run is reopened first (event `step.redriven`): it is running again and the step gets a fresh attempt, so the run can finish normally (`resumed: true`). Fix the cause first, or it comes back. 404 when no letter has that id.",
  ...allowRoles("responder"),
  request: { params: redriveParamsSchema },
  responses: {
    202: {
      description: "Published again.",
      content: { "application/json": { schema: redriveResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 503),
  },
});

export function registerDeadLetterRoutes(app: ApiApp, ctx: ApiContext): void {
  const { queue } = ctx.deps;

  app.openapi(listRoute, async (c) => {
    const { limit } = c.req.valid("query");
    const letters = await queue.listDeadLetters({ limit }).catch((error: unknown) => {
      throw queueUnavailable("list the dead letters", error);
    });
    return c.json({ queue: queue.name, items: letters.map(describeLetter) }, 200);
  });

  app.openapi(redriveRoute, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `dead-letter:${id}` });
    const resumed = await resumeRun(ctx, id, c.get("principal")?.id);
    try {
      await queue.redrive(id);
    } catch (error) {
      if (isUnknownLetter(error)) {
        throw new ApiProblem(404, {
          kind: "not-found",
          detail: `the step queue "${queue.name}" has no dead letter with id "${id}"; GET /v1/dead-letters lists the ids`,
          extra: { id },
        });
      }
      throw queueUnavailable(`redrive dead letter "${id}"`, error);
    }
    return c.json({ id, redriven: true as const, resumed }, 202);
  });
}

/**
 * Reopens the run of a step the runner dead-lettered (its run failed because of it), before the letter
 * is published again: the decider then gives the step a fresh attempt, and the old message, redriven,
 * finds its attempt superseded and is dropped. Repeating a redrive is harmless: a run already reopened
 * does not accept the event again.
 */
async function resumeRun(ctx: ApiContext, id: string, by: string | undefined): Promise<boolean> {
  const { queue, runner, clock } = ctx.deps;
  const letters = await queue.listDeadLetters({ limit: 1000 }).catch((error: unknown) => {
    throw queueUnavailable(`read dead letter "${id}"`, error);
  });
  const parsed = workMessage.safeParse(letters.find((letter) => letter.id === id)?.body);
  if (!parsed.success || parsed.data.kind !== "execute") return false;
  const { runId, key, attempt } = parsed.data;
  const state = await runner.load(runId);
  if (state?.steps[key]?.status !== "dead_lettered" || state.steps[key]?.attempt !== attempt) return false;
  const decision = await runner.deliver(runId, {
    type: "step.redriven",
    key,
    attempt,
    at: clock.now(),
    ...(by !== undefined ? { by } : {}),
  });
  return decision.accepted;
}

function describeLetter(letter: DeadLetter): z.output<typeof deadLetterSchema> {
  const common = {
    id: letter.id,
    reason: letter.reason,
    deliveryCount: letter.deliveryCount,
    deadLetteredAt: letter.deadLetteredAt,
    body: letter.body,
  };
  const parsed = workMessage.safeParse(letter.body);
  if (!parsed.success) return { ...common, kind: "unknown" };
  const message = parsed.data;
  if (message.kind === "timer")
    return { ...common, kind: "timer", runId: message.runId, timerId: message.timerId };
  return {
    ...common,
    kind: "execute",
    runId: message.runId,
    stepKey: message.key,
    stepId: message.stepId,
    attempt: message.attempt,
  };
}

/**
 * The Queue port has no error type for an unknown id; every adapter says "no dead letter with id …"
 * (and NATS refuses ids that cannot be stream sequences as "… is not a dead letter id").
 */
function isUnknownLetter(error: unknown): boolean {
  return error instanceof Error && /no dead letter with id|is not a dead letter id/.test(error.message);
}

function queueUnavailable(action: string, error: unknown): ApiProblem {
  return new ApiProblem(503, {
    kind: "queue-unavailable",
    detail: `could not ${action}: the step queue did not answer (${error instanceof Error ? error.message : String(error)})`,
  });
}
