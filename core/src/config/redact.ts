import { z } from "zod";
import { REDACTED } from "./errors.js";
import { metaOf, unwrap } from "./introspect.js";
import { type AatConfig, configFields } from "./schema.js";
import { isPlainObject } from "./values.js";

function redactValue(value: unknown, schema: z.ZodType | undefined): unknown {
  // Anything the schema does not describe is hidden rather than guessed safe.
  if (schema === undefined) return value === undefined ? undefined : REDACTED;
  if (metaOf(schema)?.secret) return value === undefined ? undefined : REDACTED;
  const base = unwrap(schema);
  if (isPlainObject(value) && (base instanceof z.ZodObject || base instanceof z.ZodRecord)) {
    const shape = base instanceof z.ZodObject ? (base.shape as Record<string, z.ZodType>) : undefined;
    const valueType = base instanceof z.ZodRecord ? (base.valueType as z.ZodType) : undefined;
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, redactValue(child, shape ? shape[key] : valueType)]),
    );
  }
  return value;
}

/** A copy of the configuration that is safe to log: every secret that is set reads "<redacted>". */
export function redactConfig(config: AatConfig): AatConfig {
  return redactValue(config, configFields) as AatConfig;
}
