import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import {
  callTool,
  SchemaCache,
  sqlExplainTool,
  sqlQueryTool,
  sqlSchemaTool,
  type Tool,
  ToolError,
} from "@aat/core";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteDriver } from "../src/index.js";

describe("sql.query, sql.schema and sql.explain tools on a real SQLite data source", () => {
  const dir = mkdtempSync(join(tmpdir(), "aat-sql-tool-"));
  const file = join(dir, "data.db");
  let driver: SqliteDriver;
  const resolve = async (id: string) => (id === "local" ? driver : undefined);
  const call = (input: unknown, tool: Tool = sqlQueryTool(resolve) as Tool) =>
    callTool(tool, input, {
      runId: "r1",
      stepKey: "s1",
      attempt: 1,
      idempotencyKey: "r1/s1/1",
      signal: new AbortController().signal,
    });

  beforeAll(() => {
    const writer = new Database(file);
    writer.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    );
    writer.close();
    driver = new SqliteDriver(file);
  });
  afterAll(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns rows and says when the row limit cut them", async () => {
    expect(
      await call({ datasourceId: "local", sql: "SELECT id, name FROM t ORDER BY id", maxRows: 2 }),
    ).toEqual({
      columns: [
        { name: "id", type: "integer" },
        { name: "name", type: "text" },
      ],
      rows: [
        [1, "a"],
        [2, "b"],
      ],
      rowCount: 2,
      truncated: "rows",
    });
  });

  it("refuses a write as a non-retryable error naming the reason", async () => {
    const error = await call({ datasourceId: "local", sql: "DELETE FROM t" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe("sql_refused");
    expect((error as ToolError).retryable).toBe(false);
    expect((error as ToolError).message).toContain("DELETE");
  });

  it("passes the database's error on so an agent can repair its SQL", async () => {
    const error = await call({ datasourceId: "local", sql: "SELECT nope FROM t" }).catch((e: unknown) => e);
    expect((error as ToolError).code).toBe("sql_error");
    expect((error as ToolError).message).toContain("no such column: nope");
  });

  it("names an unknown data source", async () => {
    const error = await call({ datasourceId: "missing", sql: "SELECT 1" }).catch((e: unknown) => e);
    expect((error as ToolError).code).toBe("not_found");
  });

  it("sql.schema renders the cached schema; sql.explain shows the plan and refuses writes", async () => {
    const schemaTool = sqlSchemaTool(resolve, new SchemaCache(new MemoryKeyValue())) as Tool;
    expect(await call({ datasourceId: "local" }, schemaTool)).toEqual({
      engine: "sqlite",
      tables: 1,
      schema:
        'sqlite schema, 1 tables\nt (~3 rows): id integer pk e.g. 1, 2, 3; name text e.g. "a", "b", "c"',
    });
    const explainTool = sqlExplainTool(resolve) as Tool;
    const explained = (await call(
      { datasourceId: "local", sql: "SELECT * FROM t WHERE id = 2" },
      explainTool,
    )) as {
      plan: string;
    };
    expect(explained.plan).toMatch(/SEARCH t USING INTEGER PRIMARY KEY/);
    const error = await call({ datasourceId: "local", sql: "DROP TABLE t" }, explainTool).catch(
      (e: unknown) => e,
    );
    expect((error as ToolError).code).toBe("sql_refused");
  });
});
