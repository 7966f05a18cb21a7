export {
  registerAzureApi,
  registerAzureFunctions,
  registerAzureSchedules,
  registerAzureSteps,
} from "./functions.js";
export { createHttpHandler, createTimerHandler, createWorkerHandler } from "./handlers.js";
export { type AzureLogger, createAzureLogger } from "./logger.js";
export {
  AZURE_RUNTIME_VERSION,
  type AzureRuntime,
  type AzureRuntimeOptions,
  createAzureRuntime,
  workerRuntime,
} from "./runtime.js";
export { TRIGGER_RECEIPT_PREFIX, type TriggerSettlement, TriggerSettlementQueue } from "./settlement.js";
export { AzureBackendError, type AzureStores, openAzureStores } from "./stores.js";
