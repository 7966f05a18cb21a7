import { randomUUID } from "node:crypto";
import { introspectSchema, runReadOnlyQuery, SqlExecutionError } from "@aat/core";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MysqlDriver } from "../src/index.js";
import { writeAttemptSuite } from "./write-attempts.js";

const URL = process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306";

describe("MariaDB/MySQL data source", () => {
  const database = `aat_sql_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  let admin: mysql.Connection;
  let driver: MysqlDriver;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: URL, multipleStatements: true });
    await admin.query(
      `CREATE DATABASE ${database}; CREATE TABLE ${database}.t (id int PRIMARY KEY, name varchar(20) NOT NULL, amount decimal(10,2), at datetime);
       INSERT INTO ${database}.t VALUES (1, 'alpha', 1.25, '2026-01-02 03:04:05'), (2, 'beta', 2.5, NULL), (3, 'gamma', NULL, NULL)`,
    );
    driver = new MysqlDriver(`${URL.replace(/\/$/, "")}/${database}`, { engine: "mariadb", max: 2 });
  });
  afterAll(async () => {
    await driver?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  writeAttemptSuite({
    name: "mariadb",
    driver: () => driver,
    table: () => `${database}.t`,
    fingerprint: async () => {
      const [rows] = await admin.query(`SELECT * FROM ${database}.t ORDER BY id`);
      const [tables] = await admin.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ?",
        [database],
      );
      return JSON.stringify([rows, tables]);
    },
  });

  it("returns MySQL types as JSON-safe values", async () => {
    const result = await runReadOnlyQuery(
      driver,
      `SELECT id, name, amount, count(*) AS n FROM ${database}.t GROUP BY id, name, amount ORDER BY id`,
    );
    expect(result.columns.map((column) => column.type)).toEqual(["int", "varchar", "decimal", "bigint"]);
    expect(result.rows[0]).toEqual([1, "alpha", 1.25, 1]);
  });

  it("cancels a query that outlasts the statement timeout", async () => {
    const error = await runReadOnlyQuery(driver, "SELECT SLEEP(s) FROM (SELECT 5 AS s) AS x", {
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlExecutionError);
    expect((error as SqlExecutionError).timedOut).toBe(true);
  });

  it("introspects the database's table with types, keys and samples", async () => {
    const info = await introspectSchema(driver);
    const table = info.tables.find((t) => t.name === "t");
    expect(table?.columns.map((c) => [c.name, c.type, c.primaryKey])).toEqual([
      ["id", "int", true],
      ["name", "varchar", false],
      ["amount", "decimal", false],
      ["at", "datetime", false],
    ]);
    expect(table?.columns[1]?.samples).toHaveLength(3);
  });
});
