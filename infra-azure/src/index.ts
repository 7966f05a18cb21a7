export { type AzureDeployConfig, checkAzureConfig, loadAzureConfig } from "./config.js";
export { fitName, hostTimeSpan, isoDuration, keyVaultSecretName } from "./names.js";
export { buildAzureSource } from "./source.js";
export { AzureStack, type AzureStackProps, ROLES } from "./stack.js";
