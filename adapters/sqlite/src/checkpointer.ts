import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface CheckpointerSettings {
  /** Absolute path of the database file. */
  file: string;
  busyTimeoutMs: number;
  synchronous: "NORMAL" | "FULL";
  /** Pause between checkpoint passes. */
  intervalMs: number;
  /** WAL size (in frames) at which a pass also resets the WAL, briefly holding back writers. */
  restartFrames: number;
  /** Called once if the thread fails; the caller goes back to checkpointing on its own connection. */
  onFailure: (error: unknown) => void;
}

/** Shared with the thread: [0] its state (`close` waits while it is RUNNING), [1] the RESTART handshake. */
const STATE = 0;
const RUNNING = 0;
const CLOSED = 1;
const FAILED = 2;
const RESTART = 1;
const NO_RESTART = 0;
const RESTART_WANTED = 1;
const WRITERS_PAUSED = 2;
/** How long the thread waits for the process to pause its writes before it checkpoints anyway (an idle process never answers). */
const PAUSE_WAIT_MS = 100;
/** Frames copied by one pass above which the next pass starts at once (SQLite's autocheckpoint size). */
const BUSY_PASS_FRAMES = 1_000;
/** How long `close` waits for a checkpoint in progress before abandoning the thread. */
const CLOSE_WAIT_MS = 10_000;

/**
 * The thread's code, CommonJS run with `eval` so it needs no build step or TypeScript loader. PASSIVE
 * checkpoints copy committed pages from the WAL into the database file (and fsync it) without ever
 * blocking a writer. Under steady writes a PASSIVE pass is never complete at the moment the next write
 * starts, so the WAL would only grow; past `restartFrames` a RESTART pass finishes the copy and makes
 * the next write start the WAL from its beginning, holding writers back only for that remainder (the
 * main connection retries a write lock refused during it: see GroupCommit).
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const state = new Int32Array(workerData.state);
function finish(outcome) {
  Atomics.store(state, ${STATE}, outcome);
  Atomics.notify(state, ${STATE});
}
// Under steady writes the RESTART would rarely catch the write lock free: ask the process to pause its
// transactions, wait until it has (or is idle), reset, and let it go on.
function restart() {
  Atomics.store(state, ${RESTART}, ${RESTART_WANTED});
  Atomics.wait(state, ${RESTART}, ${RESTART_WANTED}, ${PAUSE_WAIT_MS});
  try {
    db.pragma("wal_checkpoint(RESTART)");
  } finally {
    Atomics.store(state, ${RESTART}, ${NO_RESTART});
    Atomics.notify(state, ${RESTART});
  }
}
let db;
try {
  db = new Database(workerData.file);
  db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
  db.pragma("synchronous = " + workerData.synchronous);
  db.pragma("wal_autocheckpoint = 0");
} catch (error) {
  finish(${FAILED});
  throw error;
}
let cancel = () => {};
let backfilled = 0;
let restartedAt = -1;
function pass() {
  let copied = 0;
  try {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)");
    // Frames counts restart from 0 when the WAL was reset since the last pass.
    copied = result.checkpointed >= backfilled ? result.checkpointed - backfilled : result.checkpointed;
    backfilled = result.checkpointed;
    // A WAL still this size after a RESTART has not been written since: nothing to reset yet.
    if (result.log >= workerData.restartFrames && result.log !== restartedAt) {
      restart();
      restartedAt = result.log;
    }
  } catch (error) {
    // SQLITE_BUSY and friends: another connection is checkpointing or holds the file; next pass.
  }
  // While writes outpace the passes, copy again at once, so the WAL left for a RESTART stays small.
  if (copied >= ${BUSY_PASS_FRAMES}) {
    const next = setImmediate(pass);
    cancel = () => clearImmediate(next);
  } else {
    const next = setTimeout(pass, workerData.intervalMs);
    cancel = () => clearTimeout(next);
  }
}
parentPort.on("message", (message) => {
  if (message !== "close") return;
  cancel();
  try { db.close(); } finally {
    finish(${CLOSED});
    parentPort.close();
  }
});
const first = setTimeout(pass, workerData.intervalMs);
cancel = () => clearTimeout(first);
`;

/**
 * Checkpoints an SQLite file in WAL mode from a thread of its own, on its own connection, so the
 * process's connection (whose calls block the event loop) never copies pages or waits for an fsync.
 */
export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly busyTimeoutMs: number;
  private failed = false;

  constructor(settings: CheckpointerSettings) {
    this.busyTimeoutMs = settings.busyTimeoutMs;
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve("better-sqlite3"),
        file: settings.file,
        busyTimeoutMs: settings.busyTimeoutMs,
        synchronous: settings.synchronous,
        intervalMs: settings.intervalMs,
        restartFrames: settings.restartFrames,
        state: this.state.buffer,
      },
    });
    // A checkpoint thread must never keep the process alive.
    this.worker.unref();
    this.worker.on("error", (error) => {
      if (this.failed) return;
      this.failed = true;
      settings.onFailure(error);
    });
  }

  /**
   * Call when the process's connection holds no lock, before it starts a transaction: if the thread
   * wants to reset the WAL, this waits until it has (bounded by the busy timeout), so a steady stream
   * of writes cannot starve the reset and let the WAL grow without end.
   */
  yieldToRestart(): void {
    if (Atomics.compareExchange(this.state, RESTART, RESTART_WANTED, WRITERS_PAUSED) !== RESTART_WANTED)
      return;
    Atomics.notify(this.state, RESTART);
    Atomics.wait(this.state, RESTART, WRITERS_PAUSED, this.busyTimeoutMs);
  }

  /** Stops the thread after the pass in progress, closing its connection; returns when it has. */
  close(): void {
    if (this.failed || Atomics.load(this.state, STATE) !== RUNNING) return;
    this.worker.postMessage("close");
    if (Atomics.wait(this.state, STATE, RUNNING, CLOSE_WAIT_MS) === "timed-out") void this.worker.terminate();
  }
}
