/**
 * Adapters keep values as JSON text: it is what a networked backend stores, so JSON fidelity
 * (undefined properties dropped, non-JSON values refused) is the same on every adapter, and a person
 * reading the backend directly sees something readable. `operation` and `key` are joined only when an
 * error is built: writes are the hot path of the engine's checkpoints.
 */
export function toStoredJson(value: unknown, operation: string, key?: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `${where(operation, key)}: the value is not JSON-serialisable (${(error as Error).message})`,
    );
  }
  if (text === undefined) {
    throw new TypeError(
      `${where(operation, key)}: the value is ${typeof value}, which JSON cannot represent; store null or an object instead`,
    );
  }
  return text;
}

function where(operation: string, key: string | undefined): string {
  return key === undefined ? operation : `${operation}("${key}")`;
}
