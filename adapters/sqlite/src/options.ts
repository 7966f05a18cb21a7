import { z } from "zod";

export { clockSchema } from "@aat/core";

/** Parses adapter options, turning a zod failure into one readable TypeError. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new TypeError(`${what} options are invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Lone UTF-16 surrogates cannot be stored as SQLite text: they would turn into U+FFFD and collide.
 * (String.prototype.isWellFormed is ES2024, in Node 20; the lib setting here stops at ES2023.)
 */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}
