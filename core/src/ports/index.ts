export * from "./clock.js";
export * from "./kv.js";
export * from "./queue.js";
