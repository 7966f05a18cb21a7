/** Makes driver values JSON-safe: dates as ISO strings, big integers and decimals as numbers when exact enough. */
export function normalizeValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "string" && NUMERIC_TYPES.has(type)) {
    const number = Number(value);
    if (Number.isFinite(number) && (type === "numeric" || type === "decimal" || Number.isSafeInteger(number)))
      return number;
  }
  return value;
}

const NUMERIC_TYPES = new Set(["int8", "bigint", "numeric", "decimal"]);
