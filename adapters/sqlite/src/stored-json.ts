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
