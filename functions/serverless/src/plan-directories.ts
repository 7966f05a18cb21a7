// Loaded by the runtime only when plan directories are configured: the directory reader, the plan
// loader and the YAML parser stay out of a cold start that has none (docs/benchmarks.md, cold start).
export { DirectoryPlanRepository, startPlanDirectorySync } from "@aat/core/plan";
