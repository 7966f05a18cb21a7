import { randomUUID } from "node:crypto";
import type { WorkMessage } from "@aat/core";
import { registerHttpFunction } from "./http-function.js";
import { registerPubSubPushFunction } from "./pubsub-push-function.js";
import { PUSH_RECEIPT_PREFIX } from "./push-queue.js";
import { type GcpRuntime, instanceRuntime } from "./runtime.js";

export interface GcpFunctionNames {
  /** The http function serving the HTTP API (`--target` / FUNCTION_TARGET). */
  http?: string;
  /** The CloudEvent function the Pub/Sub push subscription (Eventarc trigger) delivers step messages to. */
  steps?: string;
  /** The http function a Cloud Scheduler job POSTs to (every minute) to fire the plans' due schedules. */
  schedules?: string;
}

export interface GcpFunctionOptions {
  /** Extend a running step's claim this often (default 10 s). */
  heartbeatMs?: number;
}

/**
 * Registers aat's two functions with the Functions Framework, both on the instance's runtime (built on
 * the first invocation from the environment, then reused):
 * - `api` (http): the Hono app, `/v1/...` exactly as `npm start` serves it.
 * - `steps` (CloudEvent, `google.cloud.pubsub.topic.v1.messagePublished`): one step message per event,
 *   handled by the Runner. Settlement is the HTTP status: 2xx when the Runner acked or dead-lettered it
 *   (Pub/Sub deletes it), an error status when it asked for a retry, did not settle it, or failed (Pub/Sub
 *   redelivers with the subscription's retry policy and dead-letters after its max delivery attempts).
 * - `schedules` (http, POST): checks the plans' `schedule` triggers and fires the due ones, once each
 *   (answers `{ fired: [...] }`). Deploy it without public access and give the Cloud Scheduler job an
 *   OIDC token for the function: it has no aat authentication of its own.
 */
export function registerGcpFunctions(
  names: GcpFunctionNames = {},
  get: () => Promise<GcpRuntime> = () => instanceRuntime(),
  options: GcpFunctionOptions = {},
): void {
  registerApiFunction(names.http ?? "api", get);
  registerSchedulesFunction(names.schedules ?? "schedules", get);
  registerStepsFunction(names.steps ?? "steps", get, options);
}

/** The `api` http function alone (its own bundle: functions/gcp/src/entries/api.ts). */
export function registerApiFunction(
  name = "api",
  get: () => Promise<GcpRuntime> = () => instanceRuntime(),
): void {
  registerHttpFunction(name, {
    async fetch(request) {
      return (await get()).app.fetch(request);
    },
  });
}

/** The `schedules` http function alone (its own bundle: functions/gcp/src/entries/schedules.ts). */
export function registerSchedulesFunction(
  name = "schedules",
  get: () => Promise<GcpRuntime> = () => instanceRuntime(),
): void {
  registerHttpFunction(name, {
    async fetch(request) {
      if (request.method !== "POST") {
        return Response.json(
          { error: "method_not_allowed", reason: "POST checks the plans' schedules (a Cloud Scheduler job)" },
          { status: 405, headers: { allow: "POST" } },
        );
      }
      const { logger, scheduler } = await get();
      const fired = await scheduler.check();
      logger.info({ fired: fired.length }, "schedules checked");
      return Response.json({
        fired: fired.map(({ planId, runId, outcome }) => ({ planId, runId, outcome })),
      });
    },
  });
}

/** The `steps` CloudEvent function alone (its own bundle: functions/gcp/src/entries/steps.ts). */
export function registerStepsFunction(
  name = "steps",
  get: () => Promise<GcpRuntime> = () => instanceRuntime(),
  options: GcpFunctionOptions = {},
): void {
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  registerPubSubPushFunction<WorkMessage>(name, {
    async handle(pushed) {
      const { logger, queue, runner } = await get();
      const message = { ...pushed.message, receipt: `${PUSH_RECEIPT_PREFIX}${randomUUID()}` };
      const heartbeat = setInterval(() => {
        runner
          .heartbeat(message)
          .catch((error: Error) =>
            logger.warn({ messageId: message.id, error: error.message }, "claim renewal failed"),
          );
      }, heartbeatMs);
      let outcome: string;
      try {
        outcome = await runner.handle(message);
      } catch (error) {
        queue.takeSettled(message.receipt);
        logger.error({ messageId: message.id, error }, "steps: handling failed; Pub/Sub delivers it again");
        throw error;
      } finally {
        clearInterval(heartbeat);
      }
      const settled = queue.takeSettled(message.receipt);
      logger.info(
        { messageId: message.id, runId: message.body.runId, outcome, settled: settled?.kind ?? "none" },
        "step message handled",
      );
      if (settled?.kind !== "ack") {
        throw new Error(`step message ${message.id} ${outcome}: not acknowledged, Pub/Sub delivers it again`);
      }
    },
    onMalformed(error) {
      void get().then(({ logger }) =>
        logger.error(
          { error: error.message },
          "steps: not a Pub/Sub step message; acknowledged, not retried",
        ),
      );
    },
  });
}
