import { type AatConfig, type Clock, loadConfig, type Tool } from "@aat/core";
import {
  createServerlessRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
} from "@aat/functions-serverless";
import { createGcpLogger, type GcpLogger } from "./logger.js";
import { PushSettlementQueue } from "./push-queue.js";
import { type GcpStores, openGcpStores } from "./stores.js";

export const GCP_RUNTIME_VERSION = "0.1.0";

export interface GcpRuntimeOptions {
  /** Defaults to the configuration read from process.env (and AAT_CONFIG) by core's loader. */
  config?: AatConfig;
  env?: Readonly<Record<string, string | undefined>>;
  tools?: Tool[];
  clock?: Clock;
  logger?: GcpLogger;
  /** Stores to use instead of the configured ones (tests). */
  stores?: GcpStores;
}

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
export async function createGcpRuntime(options: GcpRuntimeOptions = {}): Promise<GcpRuntime> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env }).config;
  return createServerlessRuntime({
    config,
    env,
    logger: options.logger ?? createGcpLogger(config.telemetry.logLevel),
    stores: options.stores ?? (await openGcpStores(config)),
    wrapQueue: (queue) => new PushSettlementQueue(queue),
    version: GCP_RUNTIME_VERSION,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
  });
}

const reuse = reusedPerInstance<GcpRuntime>();

/**
 * The instance's runtime, built on the first invocation and reused by the next ones (config is read
 * once per instance). A build that failed is retried by the next invocation.
 */
export function instanceRuntime(build: () => Promise<GcpRuntime> = createGcpRuntime): Promise<GcpRuntime> {
  return reuse(build);
}
