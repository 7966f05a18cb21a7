import { describe, expect, it } from "vitest";
import {
  checkReadOnly,
  type SqlEngine,
  SqlRefusedError,
  stripTrailing,
  wrapWithLimit,
} from "../../../src/workflows/analytics/index.js";

const ENGINES: SqlEngine[] = ["postgres", "pglite", "mysql", "mariadb", "sqlite"];
const options = { timeoutMs: 2000 };

function refusal(sql: string, engine: SqlEngine): SqlRefusedError {
  try {
    checkReadOnly(sql, engine, options);
  } catch (error) {
    if (error instanceof SqlRefusedError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(sql)} to be refused on ${engine}`);
}

const WRITES = [
  "INSERT INTO events (id) VALUES (1)",
  "UPDATE events SET severity = 'low'",
  "DELETE FROM events",
  "DROP TABLE events",
  "TRUNCATE TABLE events",
  "ALTER TABLE events ADD COLUMN x int",
  "GRANT SELECT ON events TO public",
  "SELECT 1; DROP TABLE events",
  "SELECT 1 AS a; SELECT 2 AS b",
  "WITH d AS (DELETE FROM events RETURNING *) SELECT * FROM d",
  "SELECT * INTO stolen FROM events",
  "SELECT * FROM events FOR UPDATE",
  "SELECT * FROM events FOR SHARE",
  "COPY events TO '/tmp/x'",
  "CALL do_something()",
  "SELECT nextval('events_id_seq')",
  "SELECT setval('events_id_seq', 1)",
  "SELECT pg_terminate_backend(123)",
  "SELECT pg_catalog.set_config('statement_timeout', '0', false)",
  "SELECT lo_import('/etc/passwd')",
  "SELECT load_file('/etc/passwd')",
  "SELECT benchmark(100000000, md5('x'))",
  "SELECT pg_sleep(600)",
  "SELECT sleep(600)",
  "/* harmless */ dElEtE /* really */ FROM events",
  "sElEcT 1; -- looks like a comment\n DrOp TaBlE events",
  "  insert\tINTO events (id) SELECT 1",
];

describe("checkReadOnly refuses writes on every dialect", () => {
  for (const engine of ENGINES) {
    for (const sql of WRITES) {
      it(`${engine}: ${sql.replace(/\s+/g, " ")}`, () => {
        const error = refusal(sql, engine);
        expect(error.message).toMatch(/^refused: /);
      });
    }
  }
});

describe("checkReadOnly allows reads", () => {
  const READS = [
    "SELECT 1",
    "select id, host from events where severity = 'high' order by id",
    "WITH h AS (SELECT host, count(*) AS n FROM events GROUP BY host) SELECT * FROM h ORDER BY n DESC",
    "SELECT 'DROP TABLE events; DELETE' AS text_only",
    "SELECT count(*) FROM events -- trailing comment",
    "SELECT 1;",
    "SELECT 1;\n-- x",
    "SELECT 1 ; /* done */ ;\n-- x\n",
  ];
  for (const engine of ENGINES) {
    for (const sql of READS) {
      it(`${engine}: ${sql}`, () => {
        const checked = checkReadOnly(sql, engine, options);
        expect(checked.sql.endsWith(";")).toBe(false);
      });
    }
  }

  it("names the reason: a nested write, INTO and locking each say what to remove", () => {
    expect(refusal("SELECT a INTO @x FROM t", "mysql").reason).toBe("into");
    expect(refusal("SELECT * FROM t FOR UPDATE", "mysql").reason).toBe("locking");
    expect(refusal("SELECT * FROM t LOCK IN SHARE MODE", "mysql").reason).toBe("locking");
    expect(refusal("SELECT nextval('s')", "postgres").reason).toBe("denied-function");
    expect(refusal("SELECT 1; SELECT 2", "sqlite").reason).toBe("not-single-statement");
    expect(refusal("DELETE FROM t", "postgres").message).toContain("DELETE");
  });

  it("allows a short literal sleep (the database timeout bounds it)", () => {
    expect(() => checkReadOnly("SELECT pg_sleep(1)", "postgres", options)).not.toThrow();
  });

  it("wraps with a limit on its own line so a trailing comment cannot swallow the parenthesis", () => {
    expect(wrapWithLimit("SELECT 1 -- c", 11)).toBe(
      "SELECT * FROM (\nSELECT 1 -- c\n) AS aat_query LIMIT 11",
    );
  });
});

describe("stripTrailing cuts what follows the last token, and only that", () => {
  it("drops semicolons, whitespace and comments after the statement", () => {
    expect(stripTrailing("SELECT 1;\n-- x", "postgres")).toBe("SELECT 1");
    expect(stripTrailing("SELECT 1 -- c\n;  /* d */ ;\n", "sqlite")).toBe("SELECT 1");
    expect(stripTrailing("SELECT 1; # note", "mysql")).toBe("SELECT 1");
    expect(stripTrailing("SELECT 1 /* a /* nested */ still */;", "pglite")).toBe("SELECT 1");
    expect(checkReadOnly("SELECT 1;\n-- x", "pglite", options).sql).toBe("SELECT 1");
  });

  it("keeps comment and semicolon look-alikes inside strings and quoted names", () => {
    expect(stripTrailing("SELECT '--;' AS a;", "postgres")).toBe("SELECT '--;' AS a");
    expect(stripTrailing('SELECT 1 AS "x;--";', "sqlite")).toBe('SELECT 1 AS "x;--"');
    expect(stripTrailing("SELECT 'it''s;' -- c", "sqlite")).toBe("SELECT 'it''s;'");
    expect(stripTrailing("SELECT 'a\\';' -- c", "mysql")).toBe("SELECT 'a\\';'");
    expect(stripTrailing("SELECT 1 AS `a#b`; # c", "mariadb")).toBe("SELECT 1 AS `a#b`");
    expect(stripTrailing("SELECT $q$ ;-- $q$ ; -- c", "postgres")).toBe("SELECT $q$ ;-- $q$");
    expect(stripTrailing("SELECT [a;b] FROM t; -- c", "sqlite")).toBe("SELECT [a;b] FROM t");
  });

  it("follows MySQL: -- starts a comment only before whitespace", () => {
    expect(stripTrailing("SELECT 1 --1", "mysql")).toBe("SELECT 1 --1");
    expect(stripTrailing("SELECT 1 --1", "postgres")).toBe("SELECT 1");
  });

  it("keeps everything up to a later statement, so the check still sees it", () => {
    expect(stripTrailing("SELECT 1; -- c\n DROP TABLE t; -- d", "postgres")).toBe(
      "SELECT 1; -- c\n DROP TABLE t",
    );
  });
});
