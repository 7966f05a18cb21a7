export { createHttpHandler } from "./http-handler.js";
export { createLambdaLogger, type LambdaLogger } from "./logger.js";
export { type AatContext, requestLogging, traceparentOf, withRuntime } from "./middlewares.js";
export {
  containerRuntime,
  createLambdaRuntime,
  LAMBDA_RUNTIME_VERSION,
  type LambdaRuntime,
  type LambdaRuntimeOptions,
} from "./runtime.js";
export { createScheduleHandler, type ScheduleResult } from "./schedule-handler.js";
export { SettlementTracker } from "./settlement.js";
export {
  LambdaBackendError,
  type LambdaStores,
  openLambdaStores,
  sqsQueueName,
} from "./stores.js";
export { createWorkerHandler, type WorkerHandlerOptions } from "./worker-handler.js";
