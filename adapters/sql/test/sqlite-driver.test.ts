import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReadOnlyQuery } from "@aat/core";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteDriver } from "../src/index.js";
import { writeAttemptSuite } from "./write-attempts.js";

describe("SQLite data source", () => {
  const dir = mkdtempSync(join(tmpdir(), "aat-sql-"));
  const file = join(dir, "data.db");
  let writer: Database.Database;
  let driver: SqliteDriver;

  beforeAll(() => {
    writer = new Database(file);
    writer.exec(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL); INSERT INTO t VALUES (1, 'alpha', 1.5), (2, 'beta', 2), (3, 'gamma', NULL)",
    );
    driver = new SqliteDriver(file);
  });
  afterAll(async () => {
    await driver.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  writeAttemptSuite({
    name: "sqlite",
    driver: () => driver,
    table: () => "t",
    fingerprint: async () => JSON.stringify(writer.prepare("SELECT * FROM t ORDER BY id").raw(true).all()),
  });

  it("reports declared types and aggregates", async () => {
    const result = await runReadOnlyQuery(
      driver,
      "SELECT count(*) AS n, sum(score) AS total, max(name) AS last FROM t",
    );
    expect(result.rows).toEqual([[3, 3.5, "gamma"]]);
    expect(result.truncated).toBe(false);
  });
});
