import { type SqsLambdaRecord, sqsLambdaRecordSchema } from "@aat/adapter-sqs/lambda";
import type { QueueMessage } from "@aat/core/ports";
import type { WorkMessage } from "@aat/core/runner";
import middy from "@middy/core";
import type { SQSBatchItemFailure, SQSBatchResponse } from "aws-lambda";
import pLimit from "p-limit";
import * as z from "zod/mini";
import { type AatContext, requestLogging, withRuntime } from "./middlewares.js";
import { containerRuntime, type LambdaRuntime } from "./runtime.js";

export interface WorkerHandlerOptions {
  /** Extend a running step's visibility and claim this often (default: a third of the queue's lease). */
  heartbeatMs?: number;
  /** The lease each heartbeat grants (default: queue.sqs.visibilityTimeoutMs, 30 s unless configured). */
  leaseMs?: number;
}

/**
 * SQS batches (event source mapping with ReportBatchItemFailures) into the Runner. Each record is a
 * delivery of the step queue: decoded by the SQS adapter (claim check, delays, delivery count, dead
 * letters), handled by the Runner, and reported in batchItemFailures unless the Runner settled it (acked
 * or dead-lettered). So one failing record is redelivered alone, never the whole batch, and a step the
 * Runner put back for later is not deleted by the mapping. A malformed record is reported as a failure
 * (SQS's redrive policy dead-letters it after maxReceiveCount) and never stops the others. FIFO batches
 * are handled in order; after the first failure the rest of the batch is reported too, as AWS requires.
 */
export function createWorkerHandler(
  get: () => Promise<LambdaRuntime> = () => containerRuntime(),
  options: WorkerHandlerOptions = {},
) {
  // The lease follows the configured visibility timeout, known once the runtime (config) is built.
  const leaseOf = (runtime: LambdaRuntime) =>
    options.leaseMs ??
    (runtime.config.queue.kind === "sqs" ? runtime.config.queue.sqs.visibilityTimeoutMs : undefined) ??
    30_000;
  const heartbeatOf = (leaseMs: number) => options.heartbeatMs ?? Math.max(1_000, Math.floor(leaseMs / 3));
  return middy<unknown, SQSBatchResponse>()
    .use(withRuntime(get))
    .use(requestLogging())
    .handler(async (event, context) => {
      const runtime = (context as AatContext).aat;
      const records = isObject(event) && Array.isArray(event.Records) ? event.Records : undefined;
      if (!records) {
        throw new TypeError(
          "worker: the event is not an SQS event (no Records array); connect the function to the step queue",
        );
      }
      const failures: SQSBatchItemFailure[] = [];
      const fifo = records.some((record) =>
        String((record as { eventSourceARN?: unknown }).eventSourceARN).endsWith(".fifo"),
      );
      const leaseMs = leaseOf(runtime);
      const one = (raw: unknown) => handleRecord(runtime, raw, leaseMs, heartbeatOf(leaseMs));
      if (fifo) {
        for (let index = 0; index < records.length; index++) {
          const failed = await one(records[index]);
          if (failed) {
            for (const rest of records.slice(index)) {
              const id = idOf(rest);
              if (id !== undefined) failures.push({ itemIdentifier: id });
            }
            break;
          }
        }
      } else {
        const limit = pLimit(runtime.config.limits.maxConcurrentSteps);
        const results = await Promise.all(records.map((record) => limit(() => one(record))));
        records.forEach((raw, index) => {
          const id = idOf(raw);
          if (results[index] && id !== undefined) failures.push({ itemIdentifier: id });
        });
      }
      return { batchItemFailures: failures };
    });
}

/** Handles one record; true when it must be reported as a failure (delivered again). */
async function handleRecord(
  runtime: LambdaRuntime,
  raw: unknown,
  leaseMs: number,
  heartbeatMs: number,
): Promise<boolean> {
  const { logger, queue, runner, stores } = runtime;
  // The adapter's record schema, in a module without the AWS SDK (the SDK loads with the stores).
  const parsed = sqsLambdaRecordSchema.safeParse(raw);
  if (!parsed.success) {
    logger.error(
      { messageId: idOf(raw), problems: z.prettifyError(parsed.error) },
      "worker: malformed SQS record; reported as a failure, the queue's redrive policy dead-letters it",
    );
    return true;
  }
  const record: SqsLambdaRecord = parsed.data;
  let message: QueueMessage<WorkMessage> | undefined;
  try {
    message = await stores.decode(record);
  } catch (error) {
    logger.error({ messageId: record.messageId, error }, "worker: could not read the record");
    return true;
  }
  // Handled by the adapter already (not due yet and re-published, over its delivery limit, unreadable
  // and dead-lettered): the record itself is gone, nothing to report.
  if (message === undefined) return false;
  const delivery = message;
  const heartbeat = setInterval(() => {
    queue
      .extendLease(delivery, leaseMs)
      .catch((error: Error) =>
        logger.warn({ messageId: delivery.id, error: error.message }, "visibility extension failed"),
      );
    runner
      .heartbeat(delivery)
      .catch((error: Error) =>
        logger.warn({ messageId: delivery.id, error: error.message }, "claim renewal failed"),
      );
  }, heartbeatMs);
  try {
    const outcome = await runner.handle(delivery);
    const settled = queue.takeSettled(delivery.receipt);
    logger.info(
      { messageId: delivery.id, runId: delivery.body.runId, outcome, settled },
      "step message handled",
    );
    return !settled;
  } catch (error) {
    queue.takeSettled(delivery.receipt);
    logger.error({ messageId: delivery.id, error }, "worker: handling failed; delivered again");
    return true;
  } finally {
    clearInterval(heartbeat);
  }
}

function idOf(raw: unknown): string | undefined {
  const id = isObject(raw) ? raw.messageId : undefined;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
