export * from "./builtin/index.js";
export { callTool } from "./call.js";
export { completeToolContext, silentLogger, toolSecrets, toolServices } from "./context.js";
export * from "./errors.js";
export { isToolSource, ToolRegistry } from "./registry.js";
export type * from "./types.js";
