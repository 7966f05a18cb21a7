export { type AlertsHook, alertsHook, type CompositionLogger } from "./alerts.js";
export { createChatService, oidcVerifierOf } from "./api-services.js";
export { createJsonLineLogger } from "./logger.js";
export {
  PushedDeliveryQueue,
  type PushedDeliveryQueueOptions,
  type PushedSettlement,
} from "./pushed-settlement.js";
export {
  createServerlessRuntime,
  createTargetRuntime,
  reusedPerInstance,
  type ServerlessRuntime,
  type ServerlessRuntimeOptions,
  type ServerlessStores,
  type ServerlessTarget,
  type TargetRuntimeOptions,
} from "./runtime.js";
export { readableThreatIntel } from "./threatintel.js";
