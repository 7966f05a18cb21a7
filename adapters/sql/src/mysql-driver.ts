import { type ReadOnlyRunOptions, type SqlDriver, SqlExecutionError, type SqlRows } from "@aat/core";
import mysql from "mysql2/promise";
import { normalizeValue } from "./values.js";

/** mysql2 column type codes to names. */
const MYSQL_TYPES: Record<number, string> = {
  0: "decimal",
  1: "tinyint",
  2: "smallint",
  3: "int",
  4: "float",
  5: "double",
  6: "null",
  7: "timestamp",
  8: "bigint",
  9: "mediumint",
  10: "date",
  11: "time",
  12: "datetime",
  13: "year",
  15: "varchar",
  16: "bit",
  245: "json",
  246: "decimal",
  252: "blob",
  253: "varchar",
  254: "char",
};

/** MySQL 3024 (max_execution_time exceeded) and MariaDB 1969 (max_statement_time exceeded). */
const TIMEOUT_ERRNOS = new Set([3024, 1969]);

/**
 * MySQL and MariaDB through mysql2: `START TRANSACTION READ ONLY`, always rolled back, with the
 * server's statement time limit (MariaDB max_statement_time, MySQL max_execution_time). DDL commits
 * implicitly in MySQL, so the parser check and a read-only role are what stop it: see the docs.
 */
export class MysqlDriver implements SqlDriver {
  readonly engine: "mysql" | "mariadb";
  private readonly pool: mysql.Pool;
  private flavour: Promise<"mysql" | "mariadb"> | undefined;

  constructor(uri: string, options: { engine?: "mysql" | "mariadb"; max?: number } = {}) {
    this.engine = options.engine ?? "mysql";
    this.pool = mysql.createPool({
      uri,
      connectionLimit: options.max ?? 4,
      supportBigNumbers: true,
      multipleStatements: false,
    });
  }

  private serverFlavour(): Promise<"mysql" | "mariadb"> {
    this.flavour ??= this.pool.query("SELECT VERSION() AS v").then(([rows]) =>
      String((rows as { v: string }[])[0]?.v)
        .toLowerCase()
        .includes("mariadb")
        ? "mariadb"
        : "mysql",
    );
    return this.flavour;
  }

  async queryReadOnly(sql: string, options: ReadOnlyRunOptions): Promise<SqlRows> {
    const flavour = await this.serverFlavour();
    const connection = await this.pool.getConnection();
    const ms = Math.max(1, Math.floor(options.timeoutMs));
    try {
      if (flavour === "mariadb") await connection.query(`SET SESSION max_statement_time = ${ms / 1000}`);
      else await connection.query(`SET SESSION max_execution_time = ${ms}`);
      await connection.query("START TRANSACTION READ ONLY");
      const [rows, fields] = await connection.query({ sql, rowsAsArray: true });
      const columns = (fields ?? []).map((field) => ({
        name: field.name,
        type: MYSQL_TYPES[field.columnType ?? -1] ?? `type:${field.columnType}`,
      }));
      const values = (rows as unknown[][]).map((row) =>
        row.map((value, index) => normalizeValue(value, columns[index]?.type ?? "")),
      );
      return { columns, rows: values };
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno !== undefined && TIMEOUT_ERRNOS.has(errno)) {
        throw new SqlExecutionError(
          `the query ran longer than the ${ms} ms statement timeout and was cancelled`,
          true,
          {
            cause: error,
          },
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      throw new SqlExecutionError(`the database refused the query: ${message}`, false, { cause: error });
    } finally {
      await connection.query("ROLLBACK").catch(() => undefined);
      await connection
        .query(
          flavour === "mariadb" ? "SET SESSION max_statement_time = 0" : "SET SESSION max_execution_time = 0",
        )
        .catch(() => undefined);
      connection.release();
    }
  }

  async canWrite(): Promise<boolean> {
    const [rows] = await this.pool.query("SHOW GRANTS FOR CURRENT_USER()");
    const grants = (rows as Record<string, string>[]).map((row) => Object.values(row)[0] ?? "");
    return grants.some((grant) => /\b(ALL PRIVILEGES|INSERT|UPDATE|DELETE|DROP|ALTER|CREATE)\b/i.test(grant));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
