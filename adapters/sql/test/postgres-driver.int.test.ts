import { randomUUID } from "node:crypto";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { DataSources, introspectSchema, runReadOnlyQuery, SqlExecutionError } from "@aat/core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlDriver, PostgresDriver } from "../src/index.js";
import { writeAttemptSuite } from "./write-attempts.js";

const URL = process.env.PG_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

describe("PostgreSQL data source", () => {
  const schema = `aat_sql_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: URL });
  let driver: PostgresDriver;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(
      `CREATE SEQUENCE ${schema}.aat_seq; CREATE TABLE ${schema}.t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2), seen_at timestamptz, big bigint);
       INSERT INTO ${schema}.t VALUES (1, 'alpha', 1.25, '2026-01-02T03:04:05Z', 9007199254740993), (2, 'beta', 2.5, NULL, 7), (3, 'gamma', NULL, NULL, NULL)`,
    );
    driver = new PostgresDriver(URL, { max: 2 });
  });
  afterAll(async () => {
    await driver?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  writeAttemptSuite({
    name: "postgres",
    driver: () => driver,
    table: () => `${schema}.t`,
    fingerprint: async () => {
      const rows = await admin.query(`SELECT * FROM ${schema}.t ORDER BY id`);
      const seq = await admin.query(`SELECT last_value, is_called FROM ${schema}.aat_seq`);
      const tables = await admin.query("SELECT count(*) FROM pg_tables WHERE schemaname = $1", [schema]);
      return JSON.stringify([rows.rows, seq.rows, tables.rows]);
    },
  });

  it("returns PostgreSQL types as JSON-safe values", async () => {
    const result = await runReadOnlyQuery(
      driver,
      `SELECT id, amount, seen_at, big, count(*) OVER () AS n FROM ${schema}.t ORDER BY id`,
    );
    expect(result.columns.map((column) => column.type)).toEqual([
      "int4",
      "numeric",
      "timestamptz",
      "int8",
      "int8",
    ]);
    expect(result.rows[0]).toEqual([1, 1.25, "2026-01-02T03:04:05.000Z", "9007199254740993", 3]);
  });

  it("cancels a query that outlasts the statement timeout", async () => {
    const error = await runReadOnlyQuery(driver, "SELECT pg_sleep(s) FROM (SELECT 5 AS s) AS x", {
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlExecutionError);
    expect((error as SqlExecutionError).timedOut).toBe(true);
  });

  it("introspects the schema-qualified table with types, keys and samples", async () => {
    const info = await introspectSchema(driver);
    const table = info.tables.find((t) => t.name === `${schema}.t`);
    expect(table?.columns.map((c) => [c.name, c.type, c.primaryKey])).toEqual([
      ["id", "integer", true],
      ["name", "text", false],
      ["amount", "numeric", false],
      ["seen_at", "timestamp with time zone", false],
      ["big", "bigint", false],
    ]);
    expect(table?.columns[1]?.samples).toHaveLength(3);
  });

  it("tells that a superuser connection can write", async () => {
    expect(await driver.canWrite()).toBe(true);
  });

  it("the connection test of a data source warns that the role can write", async () => {
    const sources = new DataSources(new MemoryKeyValue(), { get: async () => URL }, createSqlDriver);
    await sources.create({ id: "pg", name: "Local PostgreSQL", engine: "postgres", urlSecret: "PG_URL" });
    const result = await sources.test("pg");
    expect(result).toMatchObject({ ok: true, canWrite: true });
    expect(result.warning).toMatch(/can write/);
    await sources.close();
  });
});
