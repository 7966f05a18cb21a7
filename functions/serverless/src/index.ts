export { type AlertsHook, alertsHook, type CompositionLogger } from "./alerts.js";
export {
  createServerlessRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
  type ServerlessRuntimeOptions,
  type ServerlessStores,
} from "./runtime.js";
export { readableThreatIntel } from "./threatintel.js";
