import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { DataSourceError, DataSources, runReadOnlyQuery } from "@aat/core";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqlDriver } from "../src/index.js";

describe("data sources over real drivers", () => {
  const dir = mkdtempSync(join(tmpdir(), "aat-sql-sources-"));
  const file = join(dir, "data.db");
  const secrets = {
    get: async (name: string) => (name === "PG_URL" ? "postgres://nobody@127.0.0.1:1/none" : undefined),
  };
  let sources: DataSources;

  beforeAll(() => {
    const writer = new Database(file);
    writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2)");
    writer.close();
    sources = new DataSources(new MemoryKeyValue(), secrets, createSqlDriver);
  });
  afterAll(async () => {
    await sources.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates, lists, tests, queries and deletes a SQLite source", async () => {
    await sources.create({ id: "local", name: "Local file", engine: "sqlite", path: file });
    expect((await sources.list()).map((source) => source.id)).toEqual(["local"]);
    expect(await sources.test("local")).toEqual({ ok: true, canWrite: false });
    const driver = await sources.resolve("local");
    expect((await runReadOnlyQuery(driver!, "SELECT count(*) FROM t")).rows).toEqual([[2]]);
    expect(await sources.delete("local")).toBe(true);
    expect(await sources.resolve("local")).toBeUndefined();
  });

  it("stores only the secret's name and reports a failed connection test", async () => {
    const created = await sources.create({
      id: "pg",
      name: "Warehouse",
      engine: "postgres",
      urlSecret: "PG_URL",
    });
    expect(JSON.stringify(created)).not.toContain("postgres://");
    const result = await sources.test("pg");
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/refused|ECONNREFUSED/i);
    await sources.delete("pg");
  });

  it("refuses bad input, duplicates and a missing secret with clear errors", async () => {
    await expect(sources.create({ id: "x", name: "X", engine: "postgres" })).rejects.toThrow(/urlSecret/);
    await expect(
      sources.create({ id: "Bad Id", name: "X", engine: "sqlite", path: file }),
    ).rejects.toBeInstanceOf(DataSourceError);
    await sources.create({ id: "nosecret", name: "X", engine: "mysql", urlSecret: "MISSING_URL" });
    await expect(
      sources.create({ id: "nosecret", name: "X", engine: "mysql", urlSecret: "M" }),
    ).rejects.toThrow(/already exists/);
    await expect(sources.resolve("nosecret")).rejects.toThrow(
      /connection URL is not configured \(secret "MISSING_URL"\)/,
    );
    await sources.delete("nosecret");
  });
});
