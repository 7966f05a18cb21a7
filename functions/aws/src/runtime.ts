import {
  createTargetRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
  type TargetRuntimeOptions,
} from "@aat/functions-serverless/runtime";
import { createLambdaLogger, type LambdaLogger } from "./logger.js";
import { SettlementTracker } from "./settlement.js";
import { type LambdaStores, openLambdaStores } from "./stores.js";

export const LAMBDA_RUNTIME_VERSION = "0.1.0";

export type LambdaRuntimeOptions = TargetRuntimeOptions<LambdaStores, LambdaLogger>;

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
export function createLambdaRuntime(options: LambdaRuntimeOptions = {}): Promise<LambdaRuntime> {
  return createTargetRuntime(
    {
      createLogger: (level) => createLambdaLogger(level),
      openStores: openLambdaStores,
      wrapQueue: (queue) => new SettlementTracker(queue),
      version: LAMBDA_RUNTIME_VERSION,
    },
    options,
  );
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
