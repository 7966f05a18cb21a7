export {
  type ActionsConfig,
  actionsSection,
  NOTIFY_KINDS,
  type NotifyChannelConfig,
  RESPONSE_KINDS,
  type ResponseActionConfig,
} from "./actions.js";
export { type AlertsConfig, alertsSection, type ConfiguredSource } from "./alerts.js";
export { type ChatConfig, chatSection } from "./chat.js";
export { type CodingConfig, codingSection } from "./coding.js";
export { renderConfigDocs } from "./docs.js";
export { ConfigError, type ConfigProblem, formatProblem } from "./errors.js";
export { type LoadConfigOptions, type LoadedConfig, loadConfig } from "./load.js";
export { loadConfigOnDemand } from "./load-on-demand.js";
export {
  MCP_TRANSPORTS,
  type McpConfig,
  type McpServerConfig,
  type McpTransportKind,
  mcpSection,
} from "./mcp.js";
export { configSettings, type SettingMeta } from "./meta.js";
export { redactConfig } from "./redact.js";
export {
  type AatConfig,
  type AuthConfig,
  aatConfigSchema,
  configFields,
  type KvConfig,
  MODEL_PROVIDERS,
  type ModelProviderConfig,
  type ModelProviderKind,
  type QueueConfig,
} from "./schema.js";
export { builtConfigSections, type ConfigSectionTable } from "./section.js";
export { configSectionTable } from "./section-table.js";
export { type ThreatIntelConfig, threatIntelSection } from "./threatintel.js";
