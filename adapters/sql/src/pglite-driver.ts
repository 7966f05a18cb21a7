import type { ReadOnlyRunOptions, SqlDriver, SqlRows } from "@aat/core";
import type { PGlite } from "@electric-sql/pglite";
import { Mutex } from "./mutex.js";
import { toExecutionError } from "./postgres-driver.js";
import { pgTypeName } from "./postgres-types.js";
import { normalizeValue } from "./values.js";

/**
 * Embedded PostgreSQL (PGlite, WASM) in this process: the default data source. One connection, so
 * queries are serialized; each runs in `BEGIN READ ONLY` and is rolled back. statement_timeout is set
 * too, but WASM has no timer signal to cancel a running statement: long literal sleeps are refused by
 * the parser check, and the row limit bounds the rest.
 */
export class PgliteDriver implements SqlDriver {
  readonly engine = "pglite" as const;
  private readonly mutex = new Mutex();

  constructor(private readonly db: PGlite) {}

  queryReadOnly(sql: string, options: ReadOnlyRunOptions): Promise<SqlRows> {
    return this.mutex.run(async () => {
      try {
        await this.db.exec("BEGIN READ ONLY");
        await this.db.exec(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
        const result = await this.db.query<unknown[]>(sql, [], { rowMode: "array" });
        const columns = result.fields.map((field) => ({
          name: field.name,
          type: pgTypeName(field.dataTypeID),
        }));
        const rows = result.rows.map((row) =>
          row.map((value, index) => normalizeValue(value, columns[index]?.type ?? "")),
        );
        return { columns, rows };
      } catch (error) {
        throw toExecutionError(error, options.timeoutMs);
      } finally {
        await this.db.exec("ROLLBACK").catch(() => undefined);
      }
    });
  }

  async canWrite(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
