import { z } from "zod";

/** Parses adapter options, turning a zod failure into one readable TypeError that names each option. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new TypeError(`${what} options are invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Lone UTF-16 surrogates cannot be sent as UTF-8: they would turn into U+FFFD and collide. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024, Node 20+): several times cheaper than the regular expression. */
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

export const isWellFormed: (text: string) => boolean = nativeIsWellFormed
  ? (text) => nativeIsWellFormed.call(text)
  : (text) => !LONE_SURROGATE.test(text);

/** Redis PX takes whole milliseconds; a fractional TTL is rounded up so a key never expires early. */
export function ttlArgument(ttlMs: unknown, where: string): string {
  if (ttlMs === undefined) return "";
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError(`${where}: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
  return String(Math.ceil(ttlMs));
}
