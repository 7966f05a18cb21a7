export * from "./clock.js";
export * from "./forwarding-queue.js";
export * from "./kv.js";
export * from "./kv-checks.js";
export * from "./lock.js";
export * from "./queue.js";
export * from "./queue-options.js";
export * from "./stored-json.js";
