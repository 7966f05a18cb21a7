import type { TickFiring } from "@aat/core/schedules";
import { installZodDefaults } from "@aat/core/zod-defaults";
import middy from "@middy/core";
import * as z from "zod/mini";
import { type AatContext, requestLogging, withRuntime } from "./middlewares.js";
import { containerRuntime, type LambdaRuntime } from "./runtime.js";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

/**
 * What an EventBridge Scheduler schedule sends as its Input. With `planId`, one run of that plan starts
 * (give `runId`, e.g. templated from `<aws.scheduler.scheduled-time>`, so a redelivered event does not
 * start a second run). Without it (an empty Input, or an EventBridge rule's "Scheduled Event"), the
 * plans' own `schedule` triggers are checked and the due ones fire, exactly once each.
 */
const startEvent = z.strictObject({
  planId: z.string().check(z.minLength(1)),
  version: z.optional(z.number().check(z.int(), z.positive())),
  input: z.optional(z.unknown()),
  runId: z.optional(z.string().check(z.minLength(1))),
});

export type ScheduleResult =
  | { started: { runId: string; created: boolean } }
  | { fired: Array<Pick<TickFiring, "planId" | "runId" | "outcome">> };

export function createScheduleHandler(get: () => Promise<LambdaRuntime> = () => containerRuntime()) {
  return middy<unknown, ScheduleResult>()
    .use(withRuntime(get))
    .use(requestLogging())
    .handler(async (event, context) => {
      const runtime = (context as AatContext).aat;
      const asStart = isObject(event) && "planId" in event ? startEvent.safeParse(event) : undefined;
      if (asStart && !asStart.success) {
        // A schedule whose Input is wrong fails the same way on every retry: say what to fix.
        throw new TypeError(
          `schedule event: ${z.prettifyError(asStart.error)}; the Input must be {"planId": "...", "input"?: {...}, "runId"?: "..."} or empty`,
        );
      }
      if (asStart?.success) {
        const { planId, version, input, runId } = asStart.data;
        const started = await runtime.runner.start({
          planId,
          ...(version !== undefined ? { version } : {}),
          ...(input !== undefined ? { input } : {}),
          ...(runId !== undefined ? { runId } : {}),
        });
        runtime.logger.info(
          { planId, runId: started.runId, created: started.created },
          "scheduled run started",
        );
        return { started: { runId: started.runId, created: started.created } };
      }
      const firings = await runtime.scheduler.check();
      runtime.logger.info({ fired: firings.length }, "schedule tick checked");
      return {
        fired: firings.map(({ planId, runId, outcome }) => ({ planId, runId, outcome })),
      };
    });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
