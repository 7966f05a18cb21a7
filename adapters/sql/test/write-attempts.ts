import { runReadOnlyQuery, type SqlDriver, SqlExecutionError, SqlRefusedError } from "@aat/core";
import { expect, it } from "vitest";

/**
 * The write-attempt suite every engine runs: each statement must be refused (by the parser check or,
 * failing that, by the database) and the table `T` must hold exactly the same rows afterwards.
 * `T` in the SQL is replaced by the engine's (possibly schema-qualified) table name.
 */
export const WRITE_ATTEMPTS = [
  "INSERT INTO T (id, name) VALUES (99, 'x')",
  "UPDATE T SET name = 'changed'",
  "DELETE FROM T",
  "DROP TABLE T",
  "TRUNCATE TABLE T",
  "ALTER TABLE T ADD COLUMN extra int",
  "GRANT SELECT ON T TO PUBLIC",
  "SELECT 1; DROP TABLE T",
  "SELECT 1 AS a; DELETE FROM T",
  "WITH d AS (DELETE FROM T RETURNING *) SELECT * FROM d",
  "SELECT * INTO aat_copy FROM T",
  "SELECT * FROM T FOR UPDATE",
  "SELECT * FROM T FOR SHARE",
  "COPY T TO STDOUT",
  "CALL some_procedure()",
  "SELECT nextval('aat_seq')",
  "SELECT pg_terminate_backend(1)",
  "SELECT set_config('default_transaction_read_only', 'off', false)",
  "/* just a read */ DeLeTe /* really */ FROM T",
  "sElEcT 1; -- harmless\n dRoP tAbLe T",
  "select 1 /*; drop table T; */ ; delete from T",
  "SELECT pg_sleep(600)",
];

export interface WriteSuiteTarget {
  name: string;
  driver: () => SqlDriver;
  /** The table name to substitute for `T`. */
  table: () => string;
  /** A fingerprint of the table's contents, read through a separate (writable) connection. */
  fingerprint: () => Promise<string>;
}

export function writeAttemptSuite(target: WriteSuiteTarget): void {
  for (const template of WRITE_ATTEMPTS) {
    it(`refuses ${template.replace(/\s+/g, " ")} and leaves the data unchanged`, async () => {
      const before = await target.fingerprint();
      const sql = template.replaceAll(/\bT\b/g, target.table());
      const error = await runReadOnlyQuery(target.driver(), sql, { timeoutMs: 2000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error instanceof SqlRefusedError || error instanceof SqlExecutionError, String(error)).toBe(
        true,
      );
      expect(await target.fingerprint()).toBe(before);
    });
  }

  it("refuses DML even when the parser check is bypassed (the read-only transaction is the second layer)", async () => {
    const before = await target.fingerprint();
    for (const template of [
      "INSERT INTO T (id, name) VALUES (98, 'y')",
      "UPDATE T SET name = 'z'",
      "DELETE FROM T",
    ]) {
      await expect(
        target.driver().queryReadOnly(template.replaceAll(/\bT\b/g, target.table()), { timeoutMs: 2000 }),
      ).rejects.toBeInstanceOf(SqlExecutionError);
    }
    expect(await target.fingerprint()).toBe(before);
  });

  it("reads the rows with their types", async () => {
    const result = await runReadOnlyQuery(
      target.driver(),
      `SELECT id, name FROM ${target.table()} ORDER BY id`,
      {
        maxRows: 2,
      },
    );
    expect(result.rows).toEqual([
      [1, "alpha"],
      [2, "beta"],
    ]);
    expect(result.truncated).toBe("rows");
    expect(result.columns.map((column) => column.name)).toEqual(["id", "name"]);
  });

  it("runs a SELECT whose final semicolon is followed by comments (they are cut before wrapping)", async () => {
    const result = await runReadOnlyQuery(
      target.driver(),
      `SELECT id FROM ${target.table()} WHERE name = 'alpha';\n-- the end; /* really */\n/* done */ ;`,
    );
    expect(result.rows).toEqual([[1]]);
  });
}
