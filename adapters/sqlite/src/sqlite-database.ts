import { mkdirSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
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
  })
  .partial()
  .strict();

export type SqliteOptions = z.input<typeof optionsSchema>;

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

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

  /** Use `openSqlite`. */
  constructor(connection: Database.Database, location: string, identity: string) {
    this.connection = connection;
    this.location = location;
    this.identity = identity;
    this.journalMode = String(connection.pragma("journal_mode", { simple: true }));
    this.schemaVersion = connection.pragma("user_version", { simple: true }) as number;
    this.groups = new GroupCommit(connection);
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
    connection.pragma("journal_mode = WAL");
    connection.pragma(`synchronous = ${settings.synchronous === "full" ? "FULL" : "NORMAL"}`);
    migrate(connection, location);
    const identity = inMemory ? `:memory:#${++memoryCounter}` : realpathSync(location);
    return new SqliteDatabase(connection, location, identity);
  } catch (error) {
    connection.close();
    throw explainOpenError(error, location);
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
