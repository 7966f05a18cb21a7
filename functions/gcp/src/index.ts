export {
  type GcpFunctionNames,
  type GcpFunctionOptions,
  registerApiFunction,
  registerGcpFunctions,
  registerSchedulesFunction,
  registerStepsFunction,
} from "./functions.js";
export { type FetchApp, registerHttpFunction } from "./http-function.js";
export { createGcpLogger, type GcpLogger } from "./logger.js";
export { type PubSubPushOptions, registerPubSubPushFunction } from "./pubsub-push-function.js";
export { PUSH_RECEIPT_PREFIX, type PushSettlement, PushSettlementQueue } from "./push-queue.js";
export {
  createGcpRuntime,
  GCP_RUNTIME_VERSION,
  type GcpRuntime,
  type GcpRuntimeOptions,
  instanceRuntime,
} from "./runtime.js";
export { GcpBackendError, type GcpStores, openGcpStores } from "./stores.js";
