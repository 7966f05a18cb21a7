export * from "./metrics.js";
export * from "./traced-ports.js";
export * from "./tracing.js";
