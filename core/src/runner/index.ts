export * from "./create-runner.js";
export * from "./errors.js";
export * from "./graph-cache.js";
export * from "./messages.js";
export * from "./run-store.js";
export * from "./runner.js";
export * from "./worker.js";
