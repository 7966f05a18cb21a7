export { createModelRegistry } from "./create-registry.js";
export { aiSdkProviderFactories, type ModelProviderOptions, ModelProviderSetupError } from "./providers.js";
