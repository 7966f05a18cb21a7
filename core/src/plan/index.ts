// Plan schema, loader, checks, repositories and planner (@aat/core/plan); the same names "." exports.
export * from "./checks.js";
export * from "./directory-repository.js";
export * from "./fields.js";
export * from "./kv-repository.js";
export * from "./loader.js";
export * from "./planner.js";
export * from "./repository.js";
export * from "./schema.js";
export * from "./structure.js";
export * from "./sync.js";
export { planContentHash } from "./yaml-version.js";
