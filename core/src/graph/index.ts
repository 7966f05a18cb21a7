// The ExecutionGraph decider's public parts (@aat/core/graph); the same names "." exports.
export * from "./backoff.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./execute.js";
export * from "./factory.js";
export * from "./handlers/index.js";
export * from "./journal.js";
export * from "./keys.js";
export * from "./scope.js";
export * from "./truthy.js";
export * from "./types.js";
