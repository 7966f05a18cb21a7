export * from "./expr/index.js";
export * from "./graph/types.js";
export * from "./plan/fields.js";
export * from "./plan/schema.js";
export * from "./plan/structure.js";
export * from "./ports/index.js";
export * from "./tools/types.js";
