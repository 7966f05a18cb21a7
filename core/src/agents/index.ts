export * from "./loop.js";
export * from "./output.js";
export * from "./records.js";
export * from "./tool-call.js";
