/**
 * Argument checks and list cursors every KeyValue adapter needs alike (memory, Redis, Upstash, DynamoDB):
 * one wording of each error, with the adapter's name (`RedisKeyValue.list: …`), so the stores refuse
 * the same bad input the same way.
 */

/** A page size: the adapter's default when unset, at most its cap; anything but a positive integer is refused. */
export function listPageLimit(
  adapter: string,
  limit: number | undefined,
  defaultLimit: number,
  maxLimit: number,
): number {
  if (limit === undefined) return defaultLimit;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new TypeError(`${adapter}.list: limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, maxLimit);
}

/** An expected version for compare-and-set or a conditional delete (0 means "absent"). */
export function assertExpectedVersion(adapter: string, operation: string, version: number): void {
  if (!Number.isInteger(version) || version < 0) {
    throw new TypeError(
      `${adapter}.${operation}: expectedVersion must be an integer >= 0 (0 means absent), got ${String(version)}`,
    );
  }
}

/** The cursor after a page: the page's last key, opaque to callers. */
export function encodeListCursor(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

/** The last key a cursor stands for; refused unless a listing of this prefix returned it. */
export function decodeListCursor(adapter: string, cursor: string, prefix: string): string {
  const lastKey = typeof cursor === "string" ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!lastKey.startsWith(prefix) || encodeListCursor(lastKey) !== cursor) {
    throw new TypeError(
      `${adapter}.list: cursor ${JSON.stringify(cursor)} was not returned by a listing of prefix ${JSON.stringify(prefix)}; ` +
        "pass the cursor from the previous page of the same prefix, or omit it to start over",
    );
  }
  return lastKey;
}
