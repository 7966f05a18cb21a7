import { type AatConfig, type Clock, loadConfig, type Tool } from "@aat/core";
import {
  createServerlessRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
} from "@aat/functions-serverless";
import { createLambdaLogger, type LambdaLogger } from "./logger.js";
import { SettlementTracker } from "./settlement.js";
import { type LambdaStores, openLambdaStores } from "./stores.js";

export const LAMBDA_RUNTIME_VERSION = "0.1.0";

export interface LambdaRuntimeOptions {
  /** Defaults to the configuration read from process.env (and AAT_CONFIG) by core's loader. */
  config?: AatConfig;
  env?: Readonly<Record<string, string | undefined>>;
  tools?: Tool[];
  clock?: Clock;
  logger?: LambdaLogger;
  /** Stores to use instead of the configured ones (tests). */
  stores?: LambdaStores;
}

/**
 * What one Lambda container builds once and every invocation reuses; `queue` remembers which SQS
 * deliveries the Runner settled (the worker reports the rest in batchItemFailures).
 */
export type LambdaRuntime = ServerlessRuntime<LambdaStores, SettlementTracker, LambdaLogger>;

/**
 * Builds the runtime of a Lambda container: configuration (env through core's loader), DynamoDB/Upstash
 * and SQS stores, then the shared serverless composition (@aat/functions-serverless). No background
 * loops: the worker handler is driven by SQS events, the scheduler by EventBridge Scheduler events.
 */
export async function createLambdaRuntime(options: LambdaRuntimeOptions = {}): Promise<LambdaRuntime> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  return createServerlessRuntime({
    config,
    env,
    logger: options.logger ?? createLambdaLogger(config.telemetry.logLevel),
    stores: options.stores ?? (await openLambdaStores(config)),
    wrapQueue: (queue) => new SettlementTracker(queue),
    version: LAMBDA_RUNTIME_VERSION,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
  });
}

const reuse = reusedPerInstance<LambdaRuntime>();

/**
 * The container's runtime, built on the first invocation and reused by the next ones (config is read
 * once per container). A build that failed is retried by the next invocation.
 */
export function containerRuntime(
  build: () => Promise<LambdaRuntime> = createLambdaRuntime,
): Promise<LambdaRuntime> {
  return reuse(build);
}
