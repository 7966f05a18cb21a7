import { rm } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturingLogger, eventually, SHIPPED_PLANS, tempDir } from "./support.js";

/*
 * The analytics API over real HTTP against the Node runtime (embedded default: SQLite store, the
 * PGlite sample as data source "sample", the shipped plans/analytics/ask.yaml). The offline runtime
 * answers SQL questions and says plainly that words need a model; the second runtime talks to the
 * scripted OpenAI-compatible server and repairs its SQL once from the database's error.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in these tests.
type Json = any;

interface Client {
  runtime: NodeRuntime;
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json; text: string; headers: Headers }>;
  runOutput(runId: string): Promise<{ status: string; output: Json; error?: unknown }>;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

async function start(
  options: { models?: unknown; env?: Record<string, string>; datasources?: unknown } = {},
): Promise<Client> {
  const dataDir = await tempDir("analytics-api");
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      plans: { directories: [SHIPPED_PLANS], watch: false },
      ...(options.models ? { models: options.models } : {}),
      ...(options.datasources ? { analytics: { datasources: options.datasources } } : {}),
    }),
    logger: capturingLogger().logger,
    print: () => undefined,
    siteDir: join(dataDir, "no-site"),
    env: options.env ?? {},
  });
  cleanup.push(() => runtime.stop());
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  const call: Client["call"] = async (method, path, body) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };
  const runOutput: Client["runOutput"] = (runId) =>
    eventually(async () => {
      const { json } = await call("GET", `/v1/runs/${runId}`);
      const run = json.run as { status: string; output: unknown; error?: unknown };
      return ["succeeded", "failed", "cancelled"].includes(run.status) ? run : undefined;
    }, `run ${runId} to finish`);
  return { runtime, call, runOutput };
}

describe("analytics API on the embedded default (offline model)", () => {
  let t: Client;
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("analytics-sqlite");
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const db = new Database(join(dir, "shop.db"));
    db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, region TEXT, total REAL)");
    db.exec("INSERT INTO orders (region, total) VALUES ('eu', 10.5), ('us', 20), ('eu', 4.5)");
    db.close();
    t = await start({ env: { AAT_SECRET_WAREHOUSE_URL: "postgres://reader:s3cret-pw@127.0.0.1:1/none" } });
  }, 60_000);

  it("lists the PGlite sample as a built-in data source and describes its schema", async () => {
    const list = await t.call("GET", "/v1/analytics/datasources");
    expect(list.status).toBe(200);
    expect(list.json.items[0]).toMatchObject({ id: "sample", engine: "pglite", builtin: true });

    const schema = await t.call("GET", "/v1/analytics/datasources/sample/schema");
    expect(schema.status).toBe(200);
    const tables = schema.json.tables.map((table: { name: string }) => table.name);
    expect(tables).toEqual(expect.arrayContaining(["events", "hosts", "logins", "users"]));
    expect(schema.json.text).toContain("events (~6000 rows)");
    const refreshed = await t.call("POST", "/v1/analytics/datasources/sample/schema/refresh");
    expect(refreshed.json.introspectedAt).toBeGreaterThanOrEqual(schema.json.introspectedAt);

    const missing = await t.call("GET", "/v1/analytics/datasources/nope/schema");
    expect(missing.status).toBe(404);
    expect(missing.json.detail).toContain("GET /v1/analytics/datasources");
  }, 60_000);

  it("runs read-only SQL in pages and as CSV; writes are refused with the reason", async () => {
    const sql = "SELECT id, username FROM users ORDER BY id";
    const first = await t.call("POST", "/v1/analytics/query", { datasourceId: "sample", sql, pageSize: 8 });
    expect(first.status).toBe(200);
    expect(first.json.columns).toEqual([
      { name: "id", type: "int4" },
      { name: "username", type: "text" },
    ]);
    expect(first.json.rows.map((row: unknown[]) => row[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(first.json.hasMore).toBe(true);
    const last = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "sample",
      sql,
      pageSize: 8,
      page: 3,
    });
    expect(last.json.rows.map((row: unknown[]) => row[0])).toEqual([17, 18, 19, 20]);
    expect(last.json.hasMore).toBe(false);

    const csv = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "sample",
      sql: "SELECT username, department FROM users ORDER BY id LIMIT 2",
      format: "csv",
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.headers.get("content-disposition")).toContain("attachment");
    expect(csv.text.split("\r\n")[0]).toBe("username,department");
    expect(csv.text.split("\r\n")).toHaveLength(4);

    for (const write of [
      "DELETE FROM users",
      "SELECT 1; DROP TABLE users",
      "UPDATE users SET is_admin = true",
    ]) {
      const refused = await t.call("POST", "/v1/analytics/query", { datasourceId: "sample", sql: write });
      expect(refused.status, write).toBe(422);
      expect(refused.json.type).toContain("sql-refused");
    }
    const count = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "sample",
      sql: "SELECT count(*) AS n FROM users",
    });
    expect(count.json.rows).toEqual([[20]]);

    const broken = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "sample",
      sql: "SELECT nope FROM users",
    });
    expect(broken.status).toBe(422);
    expect(broken.json.type).toContain("sql-error");
    expect(broken.json.detail).toContain("nope");
  }, 60_000);

  it("ask: a SQL question runs as written, with a chart chosen from the columns", async () => {
    const started = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "SELECT severity, count(*) AS n FROM events GROUP BY severity ORDER BY n DESC",
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ offline: true, plan: { id: "analytics.ask" } });
    const run = await t.runOutput(started.json.runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({
      mode: "sql",
      chart: { type: "bar", x: "severity", y: ["n"] },
      rowCount: 5,
      repaired: false,
    });
    expect(run.output.rows.reduce((sum: number, row: [string, number]) => sum + row[1], 0)).toBe(6000);
    expect(run.output.summary).toContain("Ran your SQL as written");

    const unknown = await t.call("POST", "/v1/analytics/ask", { datasourceId: "nope", question: "SELECT 1" });
    expect(unknown.status).toBe(404);
    const empty = await t.call("POST", "/v1/analytics/ask", { datasourceId: "sample", question: "  " });
    expect(empty.status).toBe(422);
    expect(empty.json.errors[0].path).toBe("question");
  }, 60_000);

  it("ask: a question in words says plainly that it needs a model, and lists the tables", async () => {
    const started = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "Which users failed to log in most often in March?",
    });
    const run = await t.runOutput(started.json.runId);
    expect(run.status).toBe("succeeded");
    expect(run.output.mode).toBe("offline");
    expect(run.output.summary).toContain("need a configured language model");
    expect(run.output.summary).toContain("- logins (~3000 rows)");
    expect(run.output.hints).toContain("username text");
    expect(run.output.rows).toBeUndefined();
  }, 60_000);

  it("ask: SQL the database refuses comes back as the run's error, not a failed run", async () => {
    const started = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "SELECT missing FROM users",
    });
    const run = await t.runOutput(started.json.runId);
    expect(run.status).toBe("succeeded");
    expect(run.output.error).toContain("missing");
    expect(run.output.summary).toContain("The query could not run");
    const refused = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
    });
    const refusedRun = await t.runOutput(refused.json.runId);
    expect(refusedRun.output.error).toMatch(/read-only|refused|DELETE/i);
    const count = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "sample",
      sql: "SELECT count(*) FROM users",
    });
    expect(count.json.rows).toEqual([[20]]);
  }, 60_000);

  it("data sources: credentials only as secret references; the connection test warns about write access", async () => {
    const created = await t.call("POST", "/v1/analytics/datasources", {
      id: "warehouse",
      name: "Warehouse",
      engine: "postgres",
      urlSecret: "warehouse-url",
    });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain("s3cret-pw");
    expect(created.json).toMatchObject({ id: "warehouse", urlSecret: "warehouse-url", builtin: false });
    // A secret that is not set: the test says where to set it.
    await t.call("POST", "/v1/analytics/datasources", {
      id: "unset",
      name: "Unset",
      engine: "mysql",
      urlSecret: "unset-url",
    });
    const unset = await t.call("POST", "/v1/analytics/datasources/unset/test");
    expect(unset.status).toBe(422);
    expect(unset.json.detail).toContain("AAT_SECRET_UNSET_URL");
    const listed = await t.call("GET", "/v1/analytics/datasources");
    expect(listed.text).not.toContain("s3cret-pw");
    // Nothing listens on port 1: the test reports the failure, without the URL.
    const failed = await t.call("POST", "/v1/analytics/datasources/warehouse/test");
    expect(failed.status).toBe(200);
    expect(failed.json.ok).toBe(false);
    expect(failed.text).not.toContain("s3cret-pw");

    const withUrl = await t.call("POST", "/v1/analytics/datasources", {
      id: "leaky",
      name: "x",
      engine: "postgres",
      url: "postgres://a:b@h/db",
    });
    expect(withUrl.status).toBe(422);

    const shop = await t.call("POST", "/v1/analytics/datasources", {
      id: "shop",
      name: "Shop",
      engine: "sqlite",
      path: join(dir, "shop.db"),
    });
    expect(shop.status).toBe(201);
    const test = await t.call("POST", "/v1/analytics/datasources/shop/test");
    expect(test.json).toMatchObject({ ok: true, canWrite: false });
    const sampleTest = await t.call("POST", "/v1/analytics/datasources/sample/test");
    expect(sampleTest.json).toMatchObject({ ok: true, canWrite: true });
    expect(sampleTest.json.warning).toContain("read-only");
    const rows = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "shop",
      sql: "SELECT region, sum(total) AS total FROM orders GROUP BY region ORDER BY region",
    });
    expect(rows.json.rows).toEqual([
      ["eu", 15],
      ["us", 20],
    ]);

    expect(
      (
        await t.call("POST", "/v1/analytics/datasources", {
          id: "shop",
          name: "again",
          engine: "sqlite",
          path: "x",
        })
      ).status,
    ).toBe(409);
    expect((await t.call("DELETE", "/v1/analytics/datasources/sample")).status).toBe(409);
    expect((await t.call("DELETE", "/v1/analytics/datasources/shop")).status).toBe(204);
    expect((await t.call("DELETE", "/v1/analytics/datasources/shop")).status).toBe(404);
    expect((await t.call("GET", "/v1/analytics/datasources/shop")).status).toBe(404);
  }, 60_000);

  it("saved questions keep their SQL and chart", async () => {
    const body = {
      datasourceId: "sample",
      title: "Events by severity",
      sql: "SELECT severity, count(*) AS n FROM events GROUP BY 1",
      chart: { type: "pie", x: "severity", y: ["n"] },
    };
    const created = await t.call("POST", "/v1/analytics/questions", body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject(body);
    const badChart = await t.call("POST", "/v1/analytics/questions", { ...body, chart: { type: "radar" } });
    expect(badChart.status).toBe(422);
    const list = await t.call("GET", "/v1/analytics/questions?datasourceId=sample");
    expect(list.json.items.map((q: { id: string }) => q.id)).toContain(created.json.id);
    expect((await t.call("DELETE", `/v1/analytics/questions/${created.json.id}`)).status).toBe(204);
    expect((await t.call("GET", "/v1/analytics/questions")).json.items).toEqual([]);
  }, 60_000);

  it("the routes are in the OpenAPI document", async () => {
    const doc = await t.call("GET", "/v1/openapi.json");
    for (const path of [
      "/v1/analytics/datasources",
      "/v1/analytics/datasources/{id}/test",
      "/v1/analytics/datasources/{id}/schema",
      "/v1/analytics/query",
      "/v1/analytics/ask",
      "/v1/analytics/questions",
    ]) {
      expect(doc.json.paths[path], path).toBeDefined();
    }
  });
});

describe("data sources from configuration (analytics.datasources)", () => {
  it("are listed as built in, answer queries, cannot be deleted; a missing secret names the variable", async () => {
    const dir = await tempDir("analytics-config");
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const db = new Database(join(dir, "inventory.db"));
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)");
    db.exec("INSERT INTO items (name, qty) VALUES ('disk', 3), ('cable', 12)");
    db.close();
    const t = await start({
      datasources: {
        inventory: { name: "Inventory", engine: "sqlite", path: join(dir, "inventory.db") },
        warehouse: { engine: "postgres", urlSecret: "warehouse-url" },
      },
    });
    const list = await t.call("GET", "/v1/analytics/datasources");
    expect(list.json.items.map((s: { id: string; builtin: boolean }) => [s.id, s.builtin])).toEqual([
      ["sample", true],
      ["inventory", true],
      ["warehouse", true],
    ]);
    const rows = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "inventory",
      sql: "SELECT name, qty FROM items ORDER BY qty DESC",
    });
    expect(rows.json.rows).toEqual([
      ["cable", 12],
      ["disk", 3],
    ]);
    const write = await t.call("POST", "/v1/analytics/query", {
      datasourceId: "inventory",
      sql: "DELETE FROM items",
    });
    expect(write.status).toBe(422);
    expect((await t.call("DELETE", "/v1/analytics/datasources/inventory")).status).toBe(409);
    const unset = await t.call("POST", "/v1/analytics/query", { datasourceId: "warehouse", sql: "SELECT 1" });
    expect(unset.status).toBe(422);
    expect(unset.json.detail).toContain("AAT_SECRET_WAREHOUSE_URL");
  }, 60_000);

  it("the configuration refuses a source without its secret name or file, saying which", () => {
    expect(() => aatConfigSchema.parse({ analytics: { datasources: { bad: { engine: "mysql" } } } })).toThrow(
      /urlSecret/,
    );
    expect(() =>
      aatConfigSchema.parse({ analytics: { datasources: { lite: { engine: "sqlite" } } } }),
    ).toThrow(/path/);
  });
});

describe("analytics ask with a model (scripted OpenAI-compatible server)", () => {
  it("writes SQL from the question, repairs it once from the database's error, picks a chart and summarises", async () => {
    const server = await ScriptedLlmServer.start();
    cleanup.push(() => server.close());
    const t = await start({
      models: {
        default: "smart",
        providers: {
          smart: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: "sk-test-analytics-0001",
            baseUrl: server.openAiBaseUrl,
          },
        },
      },
    });
    server.enqueue(
      {
        kind: "reply",
        text: JSON.stringify({ sql: "SELECT category, count(*) AS n FROM event GROUP BY category" }),
      },
      {
        kind: "reply",
        text: JSON.stringify({
          sql: "SELECT category, count(*) AS n FROM events GROUP BY category ORDER BY n DESC",
        }),
      },
      {
        kind: "reply",
        text: JSON.stringify({
          chart: { type: "bar", x: "category", y: ["n"], title: "Events per category" },
          summary: "Seven categories; the counts are close to even.",
        }),
      },
    );
    const started = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "How many events are there per category?",
    });
    expect(started.status).toBe(202);
    expect(started.json.offline).toBe(false);
    const run = await t.runOutput(started.json.runId);
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({
      mode: "model",
      sql: "SELECT category, count(*) AS n FROM events GROUP BY category ORDER BY n DESC",
      chart: { type: "bar", x: "category", y: ["n"], title: "Events per category" },
      summary: "Seven categories; the counts are close to even.",
      repaired: true,
      rowCount: 7,
    });
    expect(server.requests).toHaveLength(3);
    const messages = (index: number) =>
      JSON.stringify((server.requests[index]!.body as { messages: unknown[] }).messages);
    // The draft saw the compact schema; the repair saw the database's error.
    expect(messages(0)).toContain("events (~6000 rows)");
    expect(messages(1)).toMatch(/relation \\"event\\" does not exist/);
    // The chart and summary were asked with the rows in the prompt.
    expect(messages(2)).toContain("malware");
  }, 90_000);

  it("a chart that does not fit the result is replaced by one chosen from the columns, and says so", async () => {
    const server = await ScriptedLlmServer.start();
    cleanup.push(() => server.close());
    const t = await start({
      models: {
        default: "smart",
        providers: {
          smart: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: "sk-test-analytics-0002",
            baseUrl: server.openAiBaseUrl,
          },
        },
      },
    });
    server.enqueue(
      {
        kind: "reply",
        text: JSON.stringify({
          sql: "SELECT date_trunc('week', occurred_at) AS week, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
        }),
      },
      {
        kind: "reply",
        text: JSON.stringify({ chart: { type: "pie", x: "day", y: ["total"] }, summary: "Weekly counts." }),
      },
    );
    const started = await t.call("POST", "/v1/analytics/ask", {
      datasourceId: "sample",
      question: "events per week",
    });
    const run = await t.runOutput(started.json.runId);
    expect(run.status).toBe("succeeded");
    expect(run.output.chart).toEqual({ type: "line", x: "week", y: ["n"] });
    expect(run.output.summary).toContain("does not fit the result");
    expect(run.output.repaired).toBe(false);
  }, 90_000);
});
