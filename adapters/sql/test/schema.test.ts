import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { introspectSchema, renderSchema, SchemaCache } from "@aat/core";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteDriver } from "../src/index.js";

describe("schema introspection on a real SQLite file", () => {
  const dir = mkdtempSync(join(tmpdir(), "aat-sql-schema-"));
  const file = join(dir, "data.db");
  let writer: Database.Database;
  let driver: SqliteDriver;

  beforeAll(() => {
    writer = new Database(file);
    writer.exec(`
      CREATE TABLE hosts (id INTEGER PRIMARY KEY, hostname TEXT NOT NULL);
      CREATE TABLE events (id INTEGER PRIMARY KEY, host_id INTEGER NOT NULL REFERENCES hosts(id), severity TEXT);
      INSERT INTO hosts VALUES (1, 'web-01'), (2, 'db-01');
      INSERT INTO events VALUES (1, 1, 'high'), (2, 1, 'low'), (3, 2, 'high');`);
    driver = new SqliteDriver(file);
  });
  afterAll(async () => {
    await driver.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads tables, columns, types, keys, row counts and sample values", async () => {
    const schema = await introspectSchema(driver, () => 42);
    expect(schema).toEqual({
      engine: "sqlite",
      introspectedAt: 42,
      tables: [
        {
          name: "events",
          rowEstimate: 3,
          columns: [
            { name: "id", type: "integer", nullable: true, primaryKey: true, samples: [1, 2, 3] },
            {
              name: "host_id",
              type: "integer",
              nullable: false,
              primaryKey: false,
              references: "hosts.id",
              samples: [1, 2],
            },
            { name: "severity", type: "text", nullable: true, primaryKey: false, samples: ["high", "low"] },
          ],
        },
        {
          name: "hosts",
          rowEstimate: 2,
          columns: [
            { name: "id", type: "integer", nullable: true, primaryKey: true, samples: [1, 2] },
            {
              name: "hostname",
              type: "text",
              nullable: false,
              primaryKey: false,
              samples: ["web-01", "db-01"],
            },
          ],
        },
      ],
    });
  });

  it("renders compactly and keeps within the budget by dropping samples, then tables", async () => {
    const schema = await introspectSchema(driver);
    const full = renderSchema(schema);
    expect(full).toContain("host_id integer →hosts.id not null e.g. 1, 2");
    const small = renderSchema(schema, 160);
    expect(small.length).toBeLessThanOrEqual(160);
    expect(small).not.toContain("e.g.");
    expect(small).toContain("more tables not shown");
  });

  it("caches in KeyValue until refreshed", async () => {
    const kv = new MemoryKeyValue();
    const cache = new SchemaCache(kv);
    const first = await cache.get("local", driver);
    writer.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)");
    expect((await cache.get("local", driver)).tables.map((t) => t.name)).toEqual(
      first.tables.map((t) => t.name),
    );
    const refreshed = await cache.get("local", driver, { refresh: true });
    expect(refreshed.tables.map((t) => t.name)).toEqual(["events", "hosts", "users"]);
    writer.exec("DROP TABLE users");
  });
});
