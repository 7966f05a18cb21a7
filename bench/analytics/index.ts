/**
 * bench/analytics: what analytics adds over the database driver, in the same run on the same data (the
 * embedded PGlite sample). For each query, one call after another, alternating between the paths:
 *
 *   raw      the PGlite driver's own `query` on a second, identical sample database (the baseline)
 *   guarded  runReadOnlyQuery on that database: parser check, row-limit wrap, BEGIN READ ONLY … ROLLBACK
 *   api      POST /v1/analytics/query on the Node runtime (HTTP, auth, validation, the sample source)
 *   ask      POST /v1/analytics/ask with the SQL as the question, until GET /v1/runs/{id} has the
 *            result: the analytics.ask run (plan steps through the queue, sql.query, analytics.chart)
 *
 * The median per path is printed with its ratio to raw. `ask` polls the run every 2 ms.
 *
 *   npm run bench:analytics     (ROUNDS=30 per query)
 */
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSamplePglite, PgliteDriver } from "@aat/adapter-sql";
import { aatConfigSchema, runReadOnlyQuery } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";
import { type Cleanups, runBench } from "../lib/deadline.js";
import { fmt, machine } from "../lib/measure.js";

const ROUNDS = Number(process.env.ROUNDS ?? 30);
const PLANS = new URL("../../plans", import.meta.url).pathname;

const QUERIES = [
  {
    name: "count by severity",
    sql: "SELECT severity, count(*) AS n FROM events GROUP BY severity ORDER BY n DESC",
  },
  {
    name: "weekly critical events",
    sql: "SELECT date_trunc('week', occurred_at) AS week, count(*) AS n FROM events WHERE severity = 'critical' GROUP BY 1 ORDER BY 1",
  },
  {
    name: "failed logins per user (join)",
    sql: "SELECT u.username, count(*) AS failures FROM logins l JOIN users u ON u.id = l.user_id WHERE NOT l.success GROUP BY u.username ORDER BY failures DESC",
  },
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(cleanups: Cleanups) {
  console.log(
    `bench/analytics — sql.query and analytics.ask over the raw PGlite driver, ${ROUNDS} rounds per query`,
  );
  console.log(machine());
  const dataDir = join(tmpdir(), `aat-bench-analytics-${process.pid}`);
  cleanups.add(() => rm(dataDir, { recursive: true, force: true }));
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { host: "127.0.0.1", port: 0 },
      plans: { directories: [PLANS], watch: false },
      telemetry: { logLevel: "silent" },
    }),
    print: () => {},
    siteDir: join(dataDir, "no-site"),
    env: {},
  });
  cleanups.add(() => runtime.stop());
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const ask = async (sql: string) => {
    const { runId } = (await post("/v1/analytics/ask", { datasourceId: "sample", question: sql })) as {
      runId: string;
    };
    for (;;) {
      const response = await fetch(`${runtime.url}/v1/runs/${runId}`, { headers });
      const { run } = (await response.json()) as { run: { status: string; output?: { rowCount?: number } } };
      if (run.status === "succeeded") return run.output;
      if (run.status === "failed" || run.status === "cancelled")
        throw new Error(`run ${runId} ${run.status}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  const db = await createSamplePglite();
  cleanups.add(() => db.close());
  const driver = new PgliteDriver(db);

  const rows: string[][] = [];
  for (const query of QUERIES) {
    // Same answer on every path first (and the first use loads the runtime's sample).
    const raw = await db.query(query.sql);
    const viaAsk = await ask(query.sql);
    if (viaAsk?.rowCount !== raw.rows.length) {
      throw new Error(`${query.name}: ask returned ${viaAsk?.rowCount} rows, the driver ${raw.rows.length}`);
    }
    const times = { raw: [] as number[], guarded: [] as number[], api: [] as number[], ask: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.raw.push(await timed(() => db.query(query.sql)));
      times.guarded.push(await timed(() => runReadOnlyQuery(driver, query.sql)));
      times.api.push(
        await timed(() => post("/v1/analytics/query", { datasourceId: "sample", sql: query.sql })),
      );
      times.ask.push(await timed(() => ask(query.sql)));
    }
    const base = median(times.raw);
    rows.push([
      query.name,
      `${fmt(base, 2)} ms`,
      `${fmt(median(times.guarded), 2)} ms (${fmt(median(times.guarded) / base, 1)}×)`,
      `${fmt(median(times.api), 2)} ms (${fmt(median(times.api) / base, 1)}×)`,
      `${fmt(median(times.ask), 1)} ms (${fmt(median(times.ask) / base, 1)}×)`,
    ]);
  }
  const header = [
    "query",
    "raw driver",
    "runReadOnlyQuery",
    "POST /v1/analytics/query",
    "ask → result (run)",
  ];
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log("medians; ratios are to the raw driver on the same data in this run");
}

runBench("bench/analytics", 170_000, main);
