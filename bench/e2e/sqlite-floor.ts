import type { SqliteDatabase } from "@aat/adapter-sqlite";

/** Statements one run issues on SQLite, as counted on the engine. */
export interface PerRun {
  writes: number;
  reads: number;
}

export interface FloorResult {
  ms: number;
  runsPerSecond: number;
}

/** A value the size of a logged step result. */
const VALUE = JSON.stringify({
  type: "step.succeeded",
  key: "left",
  attempt: 1,
  output: { score: 2 },
  at: 0,
});

/**
 * A table laid out like the KeyValue table (rowid rows, a unique key index), keyed like run data: a
 * random UUID per run, then a suffix.
 */
function floorStatements(db: SqliteDatabase) {
  const connection = db.connection;
  connection.exec(
    "CREATE TABLE IF NOT EXISTS bench_floor (k TEXT NOT NULL UNIQUE, v TEXT NOT NULL, version INTEGER NOT NULL)",
  );
  return {
    write: connection.prepare(
      `INSERT INTO bench_floor (k, v, version) VALUES (?, ?, 1)
       ON CONFLICT (k) DO UPDATE SET v = excluded.v, version = version + 1`,
    ),
    read: connection.prepare("SELECT v, version FROM bench_floor WHERE k = ?"),
  };
}

/**
 * The storage floor of one transaction per write: the writes (each in its own transaction, as every
 * KV and queue call was before group commit) and point reads one run issues, with no engine, on a
 * connection that checkpoints as SQLite does by default. Returns runs per second.
 */
export function measureSqliteFloor(db: SqliteDatabase, runs: number, perRun: PerRun): FloorResult {
  const { write, read } = floorStatements(db);
  const writes = Math.round(perRun.writes);
  const reads = Math.round(perRun.reads);
  const started = process.hrtime.bigint();
  for (let run = 0; run < runs; run++) {
    const id = crypto.randomUUID();
    for (let i = 0; i < writes; i++) write.run(`${id}/${i}`, VALUE);
    for (let i = 0; i < reads; i++) read.get(`${id}/${i % writes}`);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, runsPerSecond: (runs * 1000) / ms };
}

/**
 * The storage floor of the embedded default as it is now: the same writes and reads per run, issued
 * through the database's group commit (`SqliteDatabase.write` / `read`) with as many operations waiting
 * per turn of the event loop as the engine had, so they commit in groups of the size the engine's did;
 * checkpoints run in the background thread as for the engine. No KeyValue or queue code, no engine.
 */
export async function measureGroupedFloor(
  db: SqliteDatabase,
  runs: number,
  perRun: PerRun,
  operationsPerTransaction: number,
): Promise<FloorResult> {
  const { write, read } = floorStatements(db);
  const writes = Math.round(perRun.writes);
  const reads = Math.round(perRun.reads);
  const runsPerGroup = Math.max(1, Math.round(operationsPerTransaction / (writes + reads)));
  const started = process.hrtime.bigint();
  for (let first = 0; first < runs; first += runsPerGroup) {
    const waiting: Array<Promise<unknown>> = [];
    for (let run = first; run < Math.min(runs, first + runsPerGroup); run++) {
      const id = crypto.randomUUID();
      for (let i = 0; i < writes; i++) waiting.push(db.write(() => write.run(`${id}/${i}`, VALUE)));
      for (let i = 0; i < reads; i++) waiting.push(db.read(() => read.get(`${id}/${i % writes}`)));
    }
    await Promise.all(waiting);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, runsPerSecond: (runs * 1000) / ms };
}
