import {
  createTargetRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
  type TargetRuntimeOptions,
} from "@aat/functions-serverless/runtime";
import { createGcpLogger, type GcpLogger } from "./logger.js";
import { PushSettlementQueue } from "./push-queue.js";
import { type GcpStores, openGcpStores } from "./stores.js";

export const GCP_RUNTIME_VERSION = "0.1.0";

export type GcpRuntimeOptions = TargetRuntimeOptions<GcpStores, GcpLogger>;

/**
 * What one function instance builds once and every invocation reuses; `queue` settles pushed
 * deliveries by the HTTP answer.
 */
export type GcpRuntime = ServerlessRuntime<GcpStores, PushSettlementQueue, GcpLogger>;

/**
 * Builds the runtime of a Cloud Run functions instance: configuration (env through core's loader),
 * stores, then the shared serverless composition (@aat/functions-serverless). No background loops: the
 * step function is driven by Pub/Sub push, the scheduler by Cloud Scheduler calling the http function.
 */
export function createGcpRuntime(options: GcpRuntimeOptions = {}): Promise<GcpRuntime> {
  return createTargetRuntime(
    {
      createLogger: (level) => createGcpLogger(level),
      openStores: openGcpStores,
      wrapQueue: (queue) => new PushSettlementQueue(queue),
      version: GCP_RUNTIME_VERSION,
    },
    options,
  );
}

const reuse = reusedPerInstance<GcpRuntime>();

/**
 * The instance's runtime, built on the first invocation and reused by the next ones (config is read
 * once per instance). A build that failed is retried by the next invocation.
 */
export function instanceRuntime(build: () => Promise<GcpRuntime> = createGcpRuntime): Promise<GcpRuntime> {
  return reuse(build);
}
