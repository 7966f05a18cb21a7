import type { SqlColumn, SqlDriver } from "./driver.js";
import { checkReadOnly } from "./read-only-guard.js";

export interface QueryLimits {
  /** Rows returned at most; one more is fetched to tell whether the result was cut. */
  maxRows: number;
  /** Statement timeout in milliseconds, enforced by the database. */
  timeoutMs: number;
  /** Serialized result size cap (JSON bytes of the rows); rows past it are dropped and `truncated` set. */
  maxBytes: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: 1000, timeoutMs: 10_000, maxBytes: 2_000_000 };

export interface QueryResult {
  columns: SqlColumn[];
  rows: unknown[][];
  rowCount: number;
  /** `rows`: more rows than maxRows exist; `bytes`: the size cap cut the result; false: complete. */
  truncated: false | "rows" | "bytes";
  /** The statement as sent to the database (wrapped with the row limit). */
  executedSql: string;
}

/**
 * Runs user or model SQL read-only: the parser check first, then the statement wrapped in a row limit
 * and run by the driver inside a read-only transaction under the statement timeout, then the size cap.
 */
export async function runReadOnlyQuery(
  driver: SqlDriver,
  sql: string,
  limits: Partial<QueryLimits> = {},
  page: { offset?: number } = {},
): Promise<QueryResult> {
  const { maxRows, timeoutMs, maxBytes } = { ...DEFAULT_QUERY_LIMITS, ...limits };
  const checked = checkReadOnly(sql, driver.engine, { timeoutMs });
  const executedSql = wrapWithLimit(checked.sql, maxRows + 1, page.offset ?? 0);
  const result = await driver.queryReadOnly(executedSql, { timeoutMs });
  let truncated: QueryResult["truncated"] = false;
  let rows = result.rows;
  if (rows.length > maxRows) {
    rows = rows.slice(0, maxRows);
    truncated = "rows";
  }
  let bytes = 2;
  for (let index = 0; index < rows.length; index++) {
    bytes += jsonSize(rows[index]) + 1;
    if (bytes > maxBytes) {
      rows = rows.slice(0, index);
      truncated = "bytes";
      break;
    }
  }
  return { columns: result.columns, rows, rowCount: rows.length, truncated, executedSql };
}

/** The newline before `)` keeps a trailing `-- comment` in the user's SQL from eating the parenthesis. */
export function wrapWithLimit(sql: string, limit: number, offset = 0): string {
  const skip = Math.max(0, Math.floor(offset));
  return `SELECT * FROM (\n${sql}\n) AS aat_query LIMIT ${Math.max(0, Math.floor(limit))}${skip > 0 ? ` OFFSET ${skip}` : ""}`;
}

function jsonSize(value: unknown): number {
  return Buffer.byteLength(
    JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "null",
  );
}
