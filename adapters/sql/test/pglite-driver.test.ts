import { runReadOnlyQuery } from "@aat/core";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSamplePglite, PgliteDriver } from "../src/index.js";
import { writeAttemptSuite } from "./write-attempts.js";

// One PGlite for the file: starting the WASM PostgreSQL is the slow part.
describe("PGlite data source with the sample dataset", () => {
  let db: PGlite;
  let driver: PgliteDriver;

  beforeAll(async () => {
    db = await createSamplePglite();
    await db.exec(
      "CREATE SEQUENCE aat_seq; CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL); INSERT INTO t VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma')",
    );
    driver = new PgliteDriver(db);
  }, 180_000);
  afterAll(async () => {
    await driver?.close();
  });

  writeAttemptSuite({
    name: "pglite",
    driver: () => driver,
    table: () => "t",
    fingerprint: async () => {
      const rows = await db.query("SELECT id, name FROM t ORDER BY id");
      const seq = await db.query("SELECT last_value, is_called FROM aat_seq");
      const events = await db.query("SELECT count(*)::int AS n FROM events");
      return JSON.stringify([rows.rows, seq.rows, events.rows]);
    },
  });

  it("serves the deterministic sample with PostgreSQL types", async () => {
    const result = await runReadOnlyQuery(
      driver,
      "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM logins) AS logins, (SELECT count(*) FROM hosts) AS hosts, (SELECT count(*) FROM users) AS users, (SELECT min(occurred_at) FROM events) >= '2026-01-01'::timestamptz AS in_range",
    );
    expect(result.rows).toEqual([[6000, 3000, 24, 20, true]]);
    expect(result.columns.map((column) => column.type)).toEqual(["int8", "int8", "int8", "int8", "bool"]);
  });
});
