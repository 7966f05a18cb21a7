import { type ReadOnlyRunOptions, type SqlDriver, SqlExecutionError, type SqlRows } from "@aat/core";
import Database from "better-sqlite3";
import { normalizeValue } from "./values.js";

/**
 * A SQLite file opened read-only (`readonly: true`, so the file handle cannot write) with
 * `PRAGMA query_only`. better-sqlite3 runs statements synchronously and cannot be cancelled, so the
 * statement timeout is not enforced here: the parser check and the row limit (which stops even a
 * recursive CTE, as SQLite streams rows) bound the work instead.
 */
export class SqliteDriver implements SqlDriver {
  readonly engine = "sqlite" as const;
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma("query_only = ON");
  }

  async queryReadOnly(sql: string, _options: ReadOnlyRunOptions): Promise<SqlRows> {
    try {
      const statement = this.db.prepare(sql);
      if (!statement.reader) throw new Error("the statement returns no rows");
      if (!statement.readonly) throw new Error("the statement would write");
      statement.raw(true);
      const declared = statement.columns();
      const raw = statement.all() as unknown[][];
      const columns = declared.map((column, index) => ({
        name: column.name,
        type: (column.type ?? sqliteTypeOf(raw[0]?.[index])).toLowerCase(),
      }));
      const rows = raw.map((row) =>
        row.map((value, index) => normalizeValue(value, columns[index]?.type ?? "")),
      );
      return { columns, rows };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new SqlExecutionError(`the database refused the query: ${message}`, false, { cause: error });
    }
  }

  async canWrite(): Promise<boolean> {
    return false;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function sqliteTypeOf(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "bigint")
    return Number.isInteger(Number(value)) ? "integer" : "real";
  if (Buffer.isBuffer(value)) return "blob";
  return "text";
}
