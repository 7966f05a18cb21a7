export {
  DeployConfigError,
  type DeployConfigProblem,
  deployConfigPath,
  forTarget,
  loadDeployConfig,
  parseDeployConfig,
  resourcePrefix,
} from "./load.js";
export * from "./schema.js";
