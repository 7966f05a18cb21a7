/**
 * The port analytics uses to reach a database. Core never imports a driver: `@aat/adapter-sql`
 * implements this for PostgreSQL, MySQL/MariaDB, SQLite and embedded PGlite.
 */

/** Which database a data source speaks; it picks the SQL parser dialect and the driver. */
export type SqlEngine = "postgres" | "mysql" | "mariadb" | "sqlite" | "pglite";

export const SQL_ENGINES: readonly SqlEngine[] = ["postgres", "mysql", "mariadb", "sqlite", "pglite"];

export interface SqlColumn {
  name: string;
  /** The database's own type name, lower case (e.g. `int4`, `varchar`, `integer`). */
  type: string;
}

/** Rows as arrays (duplicate column names survive), values JSON-safe (dates as ISO strings). */
export interface SqlRows {
  columns: SqlColumn[];
  rows: unknown[][];
}

export interface ReadOnlyRunOptions {
  /** The database aborts the statement after this long (statement_timeout, max_statement_time…). */
  timeoutMs: number;
}

export interface SqlDriver {
  readonly engine: SqlEngine;
  /**
   * Runs one already-checked statement inside a read-only transaction that is always rolled back,
   * under the statement timeout. Drivers must enforce read-only themselves too: the parser check in
   * core is the first layer, the database's read-only transaction the second.
   */
  queryReadOnly(sql: string, options: ReadOnlyRunOptions): Promise<SqlRows>;
  /** Whether the connected role could write (used by the connection test to warn). */
  canWrite?(): Promise<boolean>;
  close(): Promise<void>;
}

/** A statement the database refused or that ran out of time; `timedOut` tells which. */
export class SqlExecutionError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SqlExecutionError";
  }
}
