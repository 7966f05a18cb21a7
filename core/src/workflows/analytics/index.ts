export * from "./datasources.js";
export * from "./driver.js";
export * from "./read-only-guard.js";
export * from "./run-query.js";
export * from "./schema.js";
export * from "./sql-query-tool.js";
export * from "./sql-schema-tools.js";
