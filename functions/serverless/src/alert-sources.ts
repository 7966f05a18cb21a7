// Loaded by the runtime build only when alerts.sources lists some (see runtime.ts).
export { resolveConfiguredSources } from "@aat/core/workflows/alerts";
