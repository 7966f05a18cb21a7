export * from "./clock.js";
export * from "./kv.js";
export * from "./lock.js";
export * from "./queue.js";
