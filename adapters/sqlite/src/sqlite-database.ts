import { mkdirSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { BUSY_RETRY_MS, isBusy, pause } from "./busy.js";
import { BackgroundCheckpointer } from "./checkpointer.js";
import { GroupCommit } from "./group-commit.js";
import { migrate } from "./migrations.js";
import { parseOptions } from "./options.js";

const optionsSchema = z
  .object({
    /** How long a write waits for another connection's lock before failing with SQLITE_BUSY (default 5 s). */
    busyTimeoutMs: z.number().int().nonnegative(),
    /**
     * `normal` (default): in WAL mode a commit survives a crash of the process; a power loss or OS crash
     * may lose the last transactions, never corrupting the file. `full`: fsync on every commit, which also
     * survives a power loss at several times the cost of a write.
     */
    synchronous: z.enum(["normal", "full"]),
    /**
     * Copy the WAL into the file from a thread of its own once the connection sees steady writes
     * (default true), so the event loop never waits for a checkpoint's copying and fsync. False: SQLite
     * checkpoints on this connection every 1,000 pages, as it does by default.
     */
    backgroundCheckpoints: z.boolean(),
  })
  .partial()
  .strict();

export type SqliteOptions = z.input<typeof optionsSchema>;

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/** Write transactions after which a file gets its checkpoint thread (a short-lived handle never does). */
const CHECKPOINT_THREAD_AFTER = 256;
/** Pause between the thread's checkpoint passes. */
const CHECKPOINT_INTERVAL_MS = 50;
/** WAL size (frames of one page) at which the thread resets the WAL: 10,000 pages are 40 MB. */
const CHECKPOINT_RESTART_FRAMES = 10_000;
/** SQLite's own default, restored when the checkpoint thread fails. */
const AUTOCHECKPOINT_PAGES = 1_000;

interface CheckpointSettings {
  busyTimeoutMs: number;
  synchronous: "NORMAL" | "FULL";
}

type Listener = () => void;
/** Per-process wake-ups for waiting receivers, keyed by database file and queue name. */
const listeners = new Map<string, Set<Listener>>();
let memoryCounter = 0;

/**
 * One connection to an SQLite file (or an in-memory database) with WAL, the chosen durability level, a
 * busy timeout, the current schema, and a cache of prepared statements. The KeyValue and Queue adapters
 * share it; whoever opened it closes it after closing them.
 */
export class SqliteDatabase {
  /** Absolute path of the file, or ":memory:". */
  readonly location: string;
  /** `wal` for files; `memory` for in-memory databases; anything else means WAL was refused by the filesystem. */
  readonly journalMode: string;
  readonly schemaVersion: number;
  readonly connection: Database.Database;
  /** Distinguishes this database from others in the process for publish notifications. */
  private readonly identity: string;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly groups: GroupCommit;
  private checkpointer: BackgroundCheckpointer | undefined;

  /** Use `openSqlite`. */
  constructor(
    connection: Database.Database,
    location: string,
    identity: string,
    backgroundCheckpoints?: CheckpointSettings,
  ) {
    this.connection = connection;
    this.location = location;
    this.identity = identity;
    this.journalMode = String(connection.pragma("journal_mode", { simple: true }));
    this.schemaVersion = connection.pragma("user_version", { simple: true }) as number;
    const checkpoints = this.journalMode === "wal" ? backgroundCheckpoints : undefined;
    this.groups =
      checkpoints === undefined
        ? new GroupCommit(connection)
        : new GroupCommit(connection, {
            busyAfter: CHECKPOINT_THREAD_AFTER,
            onBusy: () => this.startCheckpointer(checkpoints),
            beforeTransaction: () => this.checkpointer?.yieldToRestart(),
          });
  }

  /** Whether a thread is checkpointing this file (for tests and diagnostics). */
  get checkpointsInBackground(): boolean {
    return this.checkpointer !== undefined;
  }

  /**
   * Runs write `work` in the group transaction committed when the event loop next turns, with every
   * other write issued meanwhile; resolves (or rejects with its own error) after the COMMIT, so a
   * resolved write is stored. `work` must be synchronous: one statement, or an `immediate` function.
   */
  write<Result>(work: () => Result): Promise<Result> {
    return this.groups.write(work);
  }

  /** Runs read-only `work` now, or behind the writes waiting for their group so it sees them. */
  read<Result>(work: () => Result): Promise<Result> {
    return this.groups.read(work);
  }

  /** Write transactions committed and the operations they held, since opening (for benchmarks). */
  get commitStats(): { transactions: number; operations: number } {
    return { transactions: this.groups.transactions, operations: this.groups.operations };
  }

  get isOpen(): boolean {
    return this.connection.open;
  }

  /** A prepared statement, compiled once per connection and SQL text. */
  statement<Parameters extends unknown[] = unknown[], Row = unknown>(
    sql: string,
  ): Database.Statement<Parameters, Row> {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.connection.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared as unknown as Database.Statement<Parameters, Row>;
  }

  /**
   * Wraps `fn` in BEGIN IMMEDIATE … COMMIT: the write lock is taken before the first read, so a
   * read-then-write cannot be overtaken by another connection, and a lock held elsewhere is waited out
   * by the busy timeout instead of failing with SQLITE_BUSY_SNAPSHOT.
   */
  immediate<Arguments extends unknown[], Result>(
    fn: (...args: Arguments) => Result,
  ): (...args: Arguments) => Result {
    const transaction = this.connection.transaction(fn);
    return (...args: Arguments) => transaction.immediate(...args) as Result;
  }

  private startCheckpointer(settings: CheckpointSettings): void {
    if (!this.connection.open) return;
    try {
      this.checkpointer = new BackgroundCheckpointer({
        file: this.location,
        ...settings,
        intervalMs: CHECKPOINT_INTERVAL_MS,
        restartFrames: CHECKPOINT_RESTART_FRAMES,
        onFailure: () => this.checkpointInForeground(),
      });
    } catch {
      return; // No thread: this connection goes on checkpointing as before.
    }
    this.connection.pragma("wal_autocheckpoint = 0");
  }

  /** The thread failed: this connection checkpoints again, as SQLite does by default. */
  private checkpointInForeground(): void {
    this.checkpointer = undefined;
    if (this.connection.open) this.connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }

  /** Calls `listener` whenever this process makes a message on `queue` in this file visible. */
  onMessage(queue: string, listener: Listener): () => void {
    const key = `${this.identity}\u0000${queue}`;
    let set = listeners.get(key);
    if (set === undefined) {
      set = new Set();
      listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
    };
  }

  notifyMessage(queue: string): void {
    const set = listeners.get(`${this.identity}\u0000${queue}`);
    if (set === undefined) return;
    for (const listener of [...set]) listener();
  }

  /** Closes the connection (idempotent). Close the adapters using it first. */
  close(): void {
    if (!this.connection.open) return;
    this.groups.flush();
    this.checkpointer?.close();
    this.checkpointer = undefined;
    this.statements.clear();
    try {
      // Cheap upkeep SQLite recommends before closing a long-lived connection; optional, so a busy
      // file (another process writing) must not make close fail.
      this.connection.pragma("optimize");
    } catch {
      // Skipped this time; the next close tries again.
    }
    this.connection.close();
  }
}

/**
 * Opens (creating when absent, with its directory) the SQLite file at `path`, or an in-memory database
 * for ":memory:", and brings its schema up to date. Several connections, in this process or others, may
 * open the same file: WAL lets readers run beside one writer, and the busy timeout queues writers.
 */
export function openSqlite(path: string, options: SqliteOptions = {}): SqliteDatabase {
  if (typeof path !== "string" || path.trim() === "") {
    throw new TypeError(`openSqlite: path must be a file path or ":memory:", got ${JSON.stringify(path)}`);
  }
  const settings = parseOptions(optionsSchema, options, "openSqlite");
  const inMemory = path === ":memory:";
  const location = inMemory ? path : resolve(path);
  if (!inMemory) {
    try {
      mkdirSync(dirname(location), { recursive: true });
    } catch (error) {
      throw new Error(
        `openSqlite(${location}): cannot create the directory ${dirname(location)} (${(error as Error).message}); ` +
          "choose a path in a writable directory",
      );
    }
  }

  let connection: Database.Database;
  try {
    connection = new Database(location);
  } catch (error) {
    throw explainOpenError(error, location);
  }
  try {
    connection.pragma(`busy_timeout = ${settings.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
    enterWal(connection, settings.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    connection.pragma(`synchronous = ${settings.synchronous === "full" ? "FULL" : "NORMAL"}`);
    migrate(connection, location);
    const identity = inMemory ? `:memory:#${++memoryCounter}` : realpathSync(location);
    const checkpoints: CheckpointSettings | undefined =
      inMemory || settings.backgroundCheckpoints === false
        ? undefined
        : {
            busyTimeoutMs: settings.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
            synchronous: settings.synchronous === "full" ? "FULL" : "NORMAL",
          };
    return new SqliteDatabase(connection, location, identity, checkpoints);
  } catch (error) {
    connection.close();
    throw explainOpenError(error, location);
  }
}

/**
 * Switches the file to WAL. SQLite takes the exclusive lock for that without its busy handler, so while
 * another process holds a lock on a new file (opening it at the same moment, running its migration) the
 * switch fails at once with SQLITE_BUSY, busy_timeout or not. It is tried again until it succeeds (the
 * other process may have switched the file meanwhile) or the busy timeout has passed: a loop of our own,
 * since the open is synchronous (p-retry is not) and SQLite's handler is not called here.
 */
function enterWal(connection: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      connection.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    pause(BUSY_RETRY_MS);
  }
}

function explainOpenError(error: unknown, location: string): Error {
  const message = (error as Error).message ?? String(error);
  const code = (error as { code?: unknown }).code;
  if (/bindings file|NODE_MODULE_VERSION|better_sqlite3\.node/.test(message)) {
    return new Error(
      `openSqlite(${location}): the better-sqlite3 native module is missing or built for another Node.js ` +
        `(${message}). Run \`npm rebuild better-sqlite3\`; installs must allow its install script ` +
        '(root package.json "allowScripts")',
      { cause: error },
    );
  }
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return new Error(
      `openSqlite(${location}): the file is not a usable SQLite database (${message}); ` +
        "point aat at another file, or move this one away to start empty",
      { cause: error },
    );
  }
  if (code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "SQLITE_PERM") {
    return new Error(
      `openSqlite(${location}): cannot open the file for writing (${message}); ` +
        "check that the file and its directory exist and are writable",
      { cause: error },
    );
  }
  if (message.startsWith("openSqlite(")) return error as Error;
  return new Error(`openSqlite(${location}): ${message}`, { cause: error });
}
