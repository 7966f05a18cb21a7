import {
  createTargetRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
  type TargetRuntimeOptions,
} from "@aat/functions-serverless/runtime";
import { type AzureLogger, createAzureLogger } from "./logger.js";
import { TriggerSettlementQueue } from "./settlement.js";
import { type AzureStores, openAzureStores } from "./stores.js";

export const AZURE_RUNTIME_VERSION = "0.1.0";

export type AzureRuntimeOptions = TargetRuntimeOptions<AzureStores, AzureLogger>;

/**
 * What one Functions worker process builds once and every invocation reuses; `queue` settles trigger
 * deliveries by the handler's outcome.
 */
export type AzureRuntime = ServerlessRuntime<AzureStores, TriggerSettlementQueue, AzureLogger>;

/**
 * Builds the runtime of an Azure Functions worker: configuration (env, i.e. app settings, through core's
 * loader), stores, then the shared serverless composition (@aat/functions-serverless). No background
 * loops: the worker is driven by the Service Bus trigger, the scheduler by the timer trigger.
 */
export function createAzureRuntime(options: AzureRuntimeOptions = {}): Promise<AzureRuntime> {
  return createTargetRuntime(
    {
      createLogger: (level) => createAzureLogger(level),
      openStores: openAzureStores,
      wrapQueue: (queue) => new TriggerSettlementQueue(queue),
      version: AZURE_RUNTIME_VERSION,
    },
    options,
  );
}

const reuse = reusedPerInstance<AzureRuntime>();

/**
 * The worker's runtime, built on the first invocation and reused by the next ones (config is read once
 * per worker process). A build that failed is retried by the next invocation.
 */
export function workerRuntime(
  build: () => Promise<AzureRuntime> = createAzureRuntime,
): Promise<AzureRuntime> {
  return reuse(build);
}
