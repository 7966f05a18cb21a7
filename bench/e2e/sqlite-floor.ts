import type { SqliteDatabase } from "@aat/adapter-sqlite";

/**
 * The storage floor: the same number of single-row SQLite writes (each its own transaction, as every
 * KV and queue call is) and point reads per run that the engine issued, on the same kind of connection
 * (WAL, synchronous=NORMAL), with no engine at all. Returns runs per second.
 */
export function measureSqliteFloor(
  db: SqliteDatabase,
  runs: number,
  perRun: { writes: number; reads: number },
): { ms: number; runsPerSecond: number } {
  const connection = db.connection;
  connection.exec(
    "CREATE TABLE IF NOT EXISTS bench_floor (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID",
  );
  const write = connection.prepare("INSERT OR REPLACE INTO bench_floor (k, v) VALUES (?, ?)");
  const read = connection.prepare("SELECT v FROM bench_floor WHERE k = ?");
  const value = JSON.stringify({
    type: "step.succeeded",
    key: "left",
    attempt: 1,
    output: { score: 2 },
    at: 0,
  });
  const writes = Math.round(perRun.writes);
  const reads = Math.round(perRun.reads);
  const started = process.hrtime.bigint();
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < writes; i++) write.run(`r${run}/${i}`, value);
    for (let i = 0; i < reads; i++) read.get(`r${run}/${i % writes}`);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, runsPerSecond: (runs * 1000) / ms };
}
