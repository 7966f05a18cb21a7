/**
 * Only classic zod's JSON Schema reader, for json-schema.ts to import on first use: importing "zod"
 * itself with `import()` would make the bundler keep every export of zod (its locales too) in a chunk
 * the serverless start shares (docs/decisions.md, "plan schema on zod/mini").
 */
export { fromJSONSchema } from "zod";
