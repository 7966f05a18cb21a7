import { createWorkerHandler } from "../worker-handler.js";

/** Lambda entry of the worker function (SQS event source mapping, ReportBatchItemFailures on). */
export const handler = createWorkerHandler();
