/**
 * zod's JSON Schema reader (`fromJSONSchema`) belongs to classic zod, whose module costs a serverless
 * handler ~5 ms to load: the plan checks take it from here instead of importing classic zod, so the
 * checks stay out of classic at start. Whatever loads the plan reader makes it available to them:
 * the loader (every plan a user writes goes through it; classic zod is imported there), and the KV
 * repository before it hands out a stored plan that has JSON Schemas, so a runner's compile re-checks
 * them too (docs/decisions.md, "plan schema on zod/mini").
 */
export type JsonSchemaReader = typeof import("zod").fromJSONSchema;

let reader: JsonSchemaReader | undefined;

/** The reader when something has loaded it, else undefined. */
export function jsonSchemaReader(): JsonSchemaReader | undefined {
  return reader;
}

/** Make the reader available to the plan checks (the first one given stays). */
export function provideJsonSchemaReader(read: JsonSchemaReader): void {
  reader ??= read;
}

/**
 * Load classic zod's reader (once) and make it available to the plan checks; also what the run-time
 * readers (plan inputs, agent output, the offline model's schema fill) call before reading a schema.
 */
export async function loadJsonSchemaReader(): Promise<JsonSchemaReader> {
  if (!reader) provideJsonSchemaReader((await import("./json-schema-zod.js")).fromJSONSchema);
  return reader!;
}
