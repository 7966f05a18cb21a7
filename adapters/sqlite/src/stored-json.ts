/**
 * Values are kept as JSON text, so JSON fidelity (undefined properties dropped, non-JSON values refused)
 * matches every other adapter, and what a person sees with the sqlite3 shell is readable.
 */
export function toStoredJson(value: unknown, where: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${where}: the value is not JSON-serialisable (${(error as Error).message})`);
  }
  if (text === undefined) {
    throw new TypeError(
      `${where}: the value is ${typeof value}, which JSON cannot represent; store null or an object instead`,
    );
  }
  return text;
}

/**
 * Parses a stored JSON column. A row edited by hand or damaged on disk fails with `describe()`
 * (which names the row) instead of a bare SyntaxError.
 */
export function fromStoredJson<T>(text: string, describe: () => string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(
      `${describe()} is not valid JSON (${(error as Error).message}); ` +
        "the row was damaged or edited outside aat: rewrite it with valid JSON or delete it",
    );
  }
}
