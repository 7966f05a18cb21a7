import { type ReadOnlyRunOptions, type SqlDriver, SqlExecutionError, type SqlRows } from "@aat/core";
import pg from "pg";
import { isPgTimeout, pgTypeName } from "./postgres-types.js";
import { normalizeValue } from "./values.js";

/**
 * PostgreSQL through `pg`: each query runs in `BEGIN READ ONLY` with `SET LOCAL statement_timeout`
 * and is always rolled back, so even a statement the parser missed cannot write.
 */
export class PostgresDriver implements SqlDriver {
  readonly engine = "postgres" as const;
  private readonly pool: pg.Pool;

  constructor(connectionString: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 4 });
    this.pool.on("error", () => undefined);
  }

  async queryReadOnly(sql: string, options: ReadOnlyRunOptions): Promise<SqlRows> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN READ ONLY");
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
      const result = await client.query({ text: sql, rowMode: "array" });
      const columns = result.fields.map((field) => ({
        name: field.name,
        type: pgTypeName(field.dataTypeID),
      }));
      const rows = (result.rows as unknown[][]).map((row) =>
        row.map((value, index) => normalizeValue(value, columns[index]?.type ?? "")),
      );
      return { columns, rows };
    } catch (error) {
      throw toExecutionError(error, options.timeoutMs);
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
    }
  }

  async canWrite(): Promise<boolean> {
    const result = await this.pool.query<{ can: boolean }>(
      `SELECT (r.rolsuper OR EXISTS (
         SELECT 1 FROM information_schema.table_privileges p
         WHERE p.grantee = current_user AND p.privilege_type IN ('INSERT','UPDATE','DELETE','TRUNCATE')
       ) OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid AND n.nspname NOT LIKE 'pg\\_%')) AS can
       FROM pg_roles r WHERE r.rolname = current_user`,
    );
    return result.rows[0]?.can === true;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function toExecutionError(error: unknown, timeoutMs: number): SqlExecutionError {
  if (isPgTimeout(error)) {
    return new SqlExecutionError(
      `the query ran longer than the ${timeoutMs} ms statement timeout and was cancelled`,
      true,
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SqlExecutionError(`the database refused the query: ${message}`, false, { cause: error });
}
