export * from "./cron.js";
export * from "./keys.js";
export * from "./routes.js";
export * from "./scheduler.js";
export * from "./triggers.js";
