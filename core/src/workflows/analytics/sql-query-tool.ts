import { z } from "zod";
import { ToolError } from "../../tools/errors.js";
import type { Tool } from "../../tools/types.js";
import { type SqlDriver, SqlExecutionError } from "./driver.js";
import { SqlRefusedError } from "./read-only-guard.js";
import { DEFAULT_QUERY_LIMITS, type QueryLimits, runReadOnlyQuery } from "./run-query.js";

/** Finds the driver of a data source by id; undefined when there is no such data source. */
export type SqlDriverResolver = (datasourceId: string) => Promise<SqlDriver | undefined>;

const input = z.strictObject({
  datasourceId: z.string().min(1).describe("The data source to query"),
  sql: z.string().min(1).max(100_000).describe("One read-only SELECT or WITH … SELECT statement"),
  maxRows: z.number().int().min(1).max(10_000).optional().describe("Rows to return at most (default 1000)"),
});

const output = z.strictObject({
  columns: z.array(z.strictObject({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())),
  rowCount: z.number().int(),
  truncated: z.union([z.literal(false), z.literal("rows"), z.literal("bytes")]),
});

/**
 * `sql.query`: run one read-only SELECT on a data source (parser check, read-only transaction,
 * statement timeout, row limit, size cap). Refusals and database errors come back as non-retryable
 * ToolErrors carrying the database's message, so an agent can repair its SQL.
 */
export function sqlQueryTool(
  resolve: SqlDriverResolver,
  limits: Partial<QueryLimits> = {},
): Tool<z.output<typeof input>, z.output<typeof output>> {
  const base = { ...DEFAULT_QUERY_LIMITS, ...limits };
  return {
    name: "sql.query",
    description:
      "Run one read-only SQL SELECT (or WITH … SELECT) on a data source and get columns and rows. Writes, several statements, locking clauses and side-effect functions are refused.",
    input,
    output,
    timeoutMs: base.timeoutMs + 5_000,
    async run({ datasourceId, sql, maxRows }) {
      const driver = await resolve(datasourceId);
      if (!driver) {
        throw new ToolError(
          `no data source "${datasourceId}": list data sources with GET /v1/analytics/datasources`,
          {
            code: "not_found",
            retryable: false,
          },
        );
      }
      try {
        const result = await runReadOnlyQuery(driver, sql, { ...base, maxRows: maxRows ?? base.maxRows });
        return {
          columns: result.columns,
          rows: result.rows,
          rowCount: result.rowCount,
          truncated: result.truncated,
        };
      } catch (error) {
        if (error instanceof SqlRefusedError) {
          throw new ToolError(error.message, {
            code: "sql_refused",
            retryable: false,
            details: { reason: error.reason },
          });
        }
        if (error instanceof SqlExecutionError) {
          throw new ToolError(error.message, {
            code: error.timedOut ? "sql_timeout" : "sql_error",
            retryable: false,
          });
        }
        throw error;
      }
    },
  };
}
