export * from "./driver.js";
export * from "./read-only-guard.js";
export * from "./run-query.js";
