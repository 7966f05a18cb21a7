// What the alerts hook loads on a triage run's first event: only these two (a dynamic import of the
// packages' indexes would make esbuild keep every export of theirs in the chunks the start shares).
export { AuditLog } from "@aat/core/auth";
export { AlertStore } from "@aat/core/workflows/alerts";
