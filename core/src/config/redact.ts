import * as core from "zod/v4/core";
import { REDACTED } from "./errors.js";
import { metaOf, unwrap } from "./introspect.js";
import { type AatConfig, configFields } from "./schema.js";
import { isPlainObject } from "./values.js";

function redactValue(value: unknown, schema: core.$ZodType | undefined): unknown {
  // Anything the schema does not describe is hidden rather than guessed safe.
  if (schema === undefined) return value === undefined ? undefined : REDACTED;
  if (metaOf(schema)?.secret) return value === undefined ? undefined : REDACTED;
  const base = unwrap(schema);
  if (isPlainObject(value) && (base instanceof core.$ZodObject || base instanceof core.$ZodRecord)) {
    const shape = base instanceof core.$ZodObject ? base._zod.def.shape : undefined;
    const valueType = base instanceof core.$ZodRecord ? base._zod.def.valueType : undefined;
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
