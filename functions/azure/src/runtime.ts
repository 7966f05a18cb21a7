import { type AatConfig, type Clock, loadConfig, type Tool } from "@aat/core";
import {
  createServerlessRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
} from "@aat/functions-serverless";
import { type AzureLogger, createAzureLogger } from "./logger.js";
import { TriggerSettlementQueue } from "./settlement.js";
import { type AzureStores, openAzureStores } from "./stores.js";

export const AZURE_RUNTIME_VERSION = "0.1.0";

export interface AzureRuntimeOptions {
  /** Defaults to the configuration read from process.env (and AAT_CONFIG) by core's loader. */
  config?: AatConfig;
  env?: Readonly<Record<string, string | undefined>>;
  tools?: Tool[];
  clock?: Clock;
  logger?: AzureLogger;
  /** Stores to use instead of the configured ones (tests). */
  stores?: AzureStores;
}

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
export async function createAzureRuntime(options: AzureRuntimeOptions = {}): Promise<AzureRuntime> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  return createServerlessRuntime({
    config,
    env,
    logger: options.logger ?? createAzureLogger(config.telemetry.logLevel),
    stores: options.stores ?? (await openAzureStores(config)),
    wrapQueue: (queue) => new TriggerSettlementQueue(queue),
    version: AZURE_RUNTIME_VERSION,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
  });
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
