// Loaded by the runtime build only when a bootstrap admin key is configured (see runtime.ts).
export { ApiKeyStore, ensureBootstrapAdminKey } from "@aat/core/auth";
