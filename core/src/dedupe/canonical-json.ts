import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted by code unit at every depth, so equal data always serialises to the
 * same text whatever order its keys were built in. Follows JSON.stringify otherwise: `toJSON` is
 * honoured, undefined/function/symbol properties are dropped (and become null inside arrays),
 * non-finite numbers become null. BigInt and cycles are refused with an error naming the path.
 */
export function canonicalJson(value: unknown): string {
  const text = serialise(value, "", "$", new Set());
  if (text === undefined) {
    throw new TypeError(
      `canonicalJson: a top-level ${typeof value} has no JSON form; pass null or an object`,
    );
  }
  return text;
}

/** sha256 (hex) of the canonical JSON: the payload fingerprint dedupe compares across duplicates. */
export function hashPayload(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function serialise(input: unknown, key: string, path: string, ancestors: Set<object>): string | undefined {
  let value = input;
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError(
        `canonicalJson: ${path} is a BigInt, which JSON cannot represent; convert it to a string`,
      );
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const object = value as object;
  if (ancestors.has(object)) throw new TypeError(`canonicalJson: ${path} refers back to itself (a cycle)`);
  ancestors.add(object);
  let text: string;
  if (Array.isArray(object)) {
    text = `[${Array.from(object, (item, index) => serialise(item, String(index), `${path}[${index}]`, ancestors) ?? "null").join(",")}]`;
  } else {
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const name of Object.keys(record).sort()) {
      const member = serialise(record[name], name, `${path}.${name}`, ancestors);
      if (member !== undefined) parts.push(`${JSON.stringify(name)}:${member}`);
    }
    text = `{${parts.join(",")}}`;
  }
  ancestors.delete(object);
  return text;
}
