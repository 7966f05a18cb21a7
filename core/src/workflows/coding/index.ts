export * from "./diffs.js";
export * from "./port.js";
