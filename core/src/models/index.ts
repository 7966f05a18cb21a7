export * from "./agent-messages.js";
export * from "./agent-model.js";
export * from "./call.js";
export * from "./errors.js";
export * from "./language-model-agent.js";
export {
  type Assessment,
  assess,
  HIGH_RISK_SCORE,
  levelOfWord,
  MEDIUM_RISK_SCORE,
  type RiskLevel,
} from "./offline/assessment.js";
export { collectFacts, type Fact } from "./offline/facts.js";
export { OFFLINE_MODEL_ID, OFFLINE_PROVIDER, OfflineLanguageModel } from "./offline/offline-model.js";
export {
  fillSchema,
  GENERATED_BY,
  GENERATED_BY_FIELD,
  NO_UNDERSTANDING,
  OFFLINE_LABEL,
} from "./offline/schema-fill.js";
export * from "./registry.js";
export * from "./text-deltas.js";
export * from "./tool-names.js";
export * from "./usage.js";
