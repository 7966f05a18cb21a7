export {
  DeployConfigError,
  type DeployConfigProblem,
  deployConfigPath,
  forTarget,
  loadDeployConfig,
  parseDeployConfig,
  resourcePrefix,
} from "./load.js";
export {
  environmentProblems,
  MODEL_KEY_ENV,
  type ModelSecretProvider,
  webhookSecretEnv,
} from "./runtime-env.js";
export * from "./schema.js";
