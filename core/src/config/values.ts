/** Where a value came from: an environment variable, or the config file. */
export type ValueSource = { env: string } | { file: true };

/** Dotted path → source of the value at that path (containers included), for attributing problems. */
export type ValueSources = Map<string, ValueSource>;

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Records `source` for the value at `path` and for everything inside it. */
export function recordSources(
  value: unknown,
  path: readonly string[],
  sources: ValueSources,
  source: ValueSource,
) {
  sources.set(path.join("."), source);
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) recordSources(child, [...path, key], sources, source);
  }
}

/** Sets a value deep in `target`, creating objects on the way, and records where it came from. */
export function setAt(
  target: PlainObject,
  path: readonly string[],
  value: unknown,
  sources: ValueSources,
  source: ValueSource,
): void {
  let current = target;
  path.slice(0, -1).forEach((key, index) => {
    const next = current[key];
    if (!isPlainObject(next)) {
      // An object created for this value (a new map entry) came from the same place as the value.
      current[key] = {};
      sources.set(path.slice(0, index + 1).join("."), source);
    }
    current = current[key] as PlainObject;
  });
  current[path.at(-1)!] = value;
  recordSources(value, path, sources, source);
}

export function getAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Objects merge key by key; anything else in `over` replaces what is in `base`. */
export function deepMerge(base: PlainObject, over: PlainObject): PlainObject {
  const merged: PlainObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = merged[key];
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return merged;
}
