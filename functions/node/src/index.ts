export { createLogger, type RuntimeLogger } from "./logger.js";
export { runMain } from "./main-entry.js";
export { BackendStartError, NATS_STEP_SUBJECT } from "./network-stores.js";
export { ReleasableDedupe, TrackedQueue } from "./releasable.js";
export {
  type NodeRuntime,
  type NodeRuntimeOptions,
  RUNTIME_VERSION,
  type RuntimeRole,
  type RuntimeStores,
  type RuntimeTuning,
  startNodeRuntime,
} from "./runtime.js";
export { createSiteApp, DEFAULT_SITE_DIR } from "./site.js";
export { StalledRunSweeper, type StalledRunSweeperOptions } from "./stalled-runs.js";
export {
  type OpenStoresOptions,
  openStores,
  type QueueTuning,
  SQLITE_FILE,
  STEP_QUEUE,
  type Stores,
  UnsupportedBackendError,
} from "./stores.js";
