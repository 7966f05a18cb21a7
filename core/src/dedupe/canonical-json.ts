import * as crypto from "node:crypto";

/**
 * JSON with object keys sorted by code unit at every depth, so equal data always serialises to the
 * same text whatever order its keys were built in. Follows JSON.stringify otherwise: `toJSON` is
 * honoured, undefined/function/symbol properties are dropped (and become null inside arrays),
 * non-finite numbers become null. BigInt and cycles are refused with an error naming the path.
 */
export function canonicalJson(value: unknown): string {
  const text = serialise(value, "", [], new Set());
  if (text === undefined) {
    throw new TypeError(
      `canonicalJson: a top-level ${typeof value} has no JSON form; pass null or an object`,
    );
  }
  return text;
}

/** One-shot `crypto.hash` (Node 20.12+, 21.7+) skips the Hash object; createHash where it is missing. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

/** sha256 (hex) of the canonical JSON: the payload fingerprint dedupe compares across duplicates. */
export function hashPayload(value: unknown): string {
  const text = canonicalJson(value);
  return oneShotHash !== undefined
    ? oneShotHash("sha256", text, "hex")
    : crypto.createHash("sha256").update(text).digest("hex");
}

/**
 * `trail` holds the keys and indexes from the top down to `input`'s parent; the path an error names
 * (`$.a[0].b`) is built from it only when there is an error.
 */
function serialise(
  input: unknown,
  key: string,
  trail: Array<string | number>,
  ancestors: Set<object>,
): string | undefined {
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
        `canonicalJson: ${pathOf(trail)} is a BigInt, which JSON cannot represent; convert it to a string`,
      );
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const object = value as object;
  if (ancestors.has(object)) {
    throw new TypeError(`canonicalJson: ${pathOf(trail)} refers back to itself (a cycle)`);
  }
  ancestors.add(object);
  let text: string;
  if (Array.isArray(object)) {
    text = "[";
    for (let index = 0; index < object.length; index++) {
      trail.push(index);
      const item = serialise(object[index], String(index), trail, ancestors);
      trail.pop();
      text += `${index === 0 ? "" : ","}${item ?? "null"}`;
    }
    text += "]";
  } else {
    const record = object as Record<string, unknown>;
    text = "{";
    let first = true;
    for (const name of Object.keys(record).sort()) {
      trail.push(name);
      const member = serialise(record[name], name, trail, ancestors);
      trail.pop();
      if (member === undefined) continue;
      text += `${first ? "" : ","}${JSON.stringify(name)}:${member}`;
      first = false;
    }
    text += "}";
  }
  ancestors.delete(object);
  return text;
}

function pathOf(trail: ReadonlyArray<string | number>): string {
  return trail.reduce<string>(
    (path, step) => (typeof step === "number" ? `${path}[${step}]` : `${path}.${step}`),
    "$",
  );
}
