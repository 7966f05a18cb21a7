import type { HandleOutcome, QueueMessage, WorkerOptions, WorkMessage } from "@aat/core";
import type { RuntimeLogger } from "./logger.js";

/** Fields that tie a log line to its run and step. */
export function messageFields(message: QueueMessage<WorkMessage> | undefined): Record<string, unknown> {
  if (!message) return {};
  const body = message.body as Partial<Record<string, unknown>> | undefined;
  return {
    ...(typeof body?.runId === "string" ? { runId: body.runId } : {}),
    ...(typeof body?.key === "string" ? { stepKey: body.key } : {}),
    ...(typeof body?.attempt === "number" ? { attempt: body.attempt } : {}),
    ...(typeof body?.timerId === "string" ? { timerId: body.timerId } : {}),
    messageId: message.id,
    deliveryCount: message.deliveryCount,
  };
}

/** What is worth saying about an outcome: failures of our own machinery loudly, the rest at debug. */
const LEVEL: Record<HandleOutcome, "debug" | "info" | "warn" | "error"> = {
  executed: "debug",
  replayed: "info",
  stale: "debug",
  in_progress: "debug",
  timer: "debug",
  invalid: "error",
  dead_lettered: "error",
  retry_later: "warn",
};

/** Worker hooks that log each handled message with runId and stepKey. */
export function workerLogging(logger: RuntimeLogger): Pick<WorkerOptions, "onOutcome" | "onError"> {
  return {
    onOutcome(outcome, message) {
      logger[LEVEL[outcome]]({ ...messageFields(message), outcome }, `step message ${outcome}`);
    },
    onError(error, message) {
      logger.error(
        { ...messageFields(message), error: error instanceof Error ? error.message : String(error) },
        message ? "handling a step message failed; it will be delivered again" : "receiving work failed",
      );
    },
  };
}
