import type Database from "better-sqlite3";
import { BUSY_RETRY_MS, isBusy, pause } from "./busy.js";

interface Operation {
  work: () => unknown;
  writes: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: the writes (and the reads that follow them) issued on one connection while the event
 * loop is busy are run, in the order they were issued, in one transaction when the loop next turns,
 * and every caller is answered only after that COMMIT. A resolved write is therefore a stored write,
 * exactly as with one transaction per write, but a busy process pays for one commit per turn instead of
 * one per write. Each operation is atomic on its own: a single statement is, and multi-statement work
 * runs in a better-sqlite3 transaction function, which becomes a savepoint inside the group. An
 * operation that fails is rolled back alone and only its caller sees the error; a failure that aborts
 * the whole transaction (disk full, I/O error) fails the operations that ran in it, and the ones not yet
 * run are tried again in a new group. A group of reads only takes no write lock.
 */
export interface GroupCommitHooks {
  /**
   * Called once, after `busyAfter` write transactions: the connection is doing real work (used to start
   * checkpointing in the background only for files that see steady writes).
   */
  onBusy?: () => void;
  busyAfter?: number;
  /** Called before each group's BEGIN, when this connection holds no lock (the checkpoint thread waits for such a moment). */
  beforeTransaction?: () => void;
}

export class GroupCommit {
  private pending: Operation[] = [];
  /** Whether any waiting operation writes (a group of reads needs no write lock). */
  private pendingWrites = false;
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private readonly beginWrite: Database.Statement;
  private readonly beginRead: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly busyTimeoutMs: number;
  /** Write transactions committed so far; for benchmarks. */
  transactions = 0;
  /** Operations (reads included) run in those transactions. */
  operations = 0;

  private onBusy: (() => void) | undefined;
  private readonly busyAfter: number;
  private readonly beforeTransaction: () => void;

  constructor(
    private readonly connection: Database.Database,
    hooks: GroupCommitHooks = {},
  ) {
    this.onBusy = hooks.onBusy;
    this.busyAfter = hooks.busyAfter ?? Number.POSITIVE_INFINITY;
    this.beforeTransaction = hooks.beforeTransaction ?? (() => {});
    this.beginWrite = connection.prepare("BEGIN IMMEDIATE");
    this.beginRead = connection.prepare("BEGIN");
    this.commit = connection.prepare("COMMIT");
    this.rollback = connection.prepare("ROLLBACK");
    this.busyTimeoutMs = connection.pragma("busy_timeout", { simple: true }) as number;
  }

  /** Runs `work` in the next group; resolves with its result once the group is committed. */
  write<Result>(work: () => Result): Promise<Result> {
    return this.enqueue(work, true);
  }

  /**
   * Runs read-only `work` in the next group too, behind the writes issued before it (so it sees them):
   * a read on its own would take and drop the file's WAL read lock, which costs more than the query.
   */
  read<Result>(work: () => Result): Promise<Result> {
    return this.enqueue(work, false);
  }

  /** Runs and commits whatever is waiting now (before closing the connection, for one). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const group = this.pending;
    const writes = this.pendingWrites;
    this.pending = [];
    this.pendingWrites = false;
    if (group.length === 0) return;
    const outcomes = this.runInTransaction(group, writes);
    if (outcomes === undefined) return;
    this.count(group, writes);
    this.settle(group, outcomes);
  }

  /**
   * Runs the group in one transaction and commits it; undefined when the group failed as a whole and
   * its operations were answered here. While another connection holds the write lock (the checkpoint
   * thread's RESTART, another process), SQLite's busy handler waits, but it counts its sleeps instead of
   * measuring time, so signals that cut them short (a CPU profiler's SIGPROF) make it answer
   * SQLITE_BUSY early. Nothing has been done then: the group is tried again until the busy timeout has
   * really passed.
   */
  private runInTransaction(group: Operation[], writes: boolean): Outcome[] | undefined {
    const deadline = Date.now() + this.busyTimeoutMs;
    const retry = (error: unknown) => isBusy(error) && Date.now() < deadline;
    for (;;) {
      this.beforeTransaction();
      try {
        (writes ? this.beginWrite : this.beginRead).run();
      } catch (error) {
        if (retry(error)) {
          pause(BUSY_RETRY_MS);
          continue;
        }
        for (const operation of group) operation.reject(error);
        return undefined;
      }
      const outcomes: Outcome[] = [];
      let busy = false;
      for (const operation of group) {
        const outcome = this.run(operation);
        // A group of reads takes its read lock at the first query: a busy answer there changed nothing.
        if (!outcome.ok && !writes && retry(outcome.error)) {
          busy = true;
          break;
        }
        if (!outcome.ok && !this.connection.inTransaction) {
          // SQLite rolled the whole transaction back: what ran in it is lost; the rest gets a new group.
          const ran = outcomes.length;
          this.requeue(group.slice(ran + 1));
          for (const lost of group.slice(0, ran)) lost.reject(rolledBack(outcome.error));
          group[ran]!.reject(outcome.error);
          return undefined;
        }
        outcomes.push(outcome);
      }
      if (busy) {
        if (this.connection.inTransaction) this.rollback.run();
        pause(BUSY_RETRY_MS);
        continue;
      }
      try {
        this.commit.run();
      } catch (error) {
        if (this.connection.inTransaction) this.rollback.run();
        for (const operation of group) operation.reject(error);
        return undefined;
      }
      return outcomes;
    }
  }

  private enqueue<Result>(work: () => Result, writes: boolean): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ work, writes, resolve: resolve as (value: unknown) => void, reject });
      this.pendingWrites ||= writes;
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private run(operation: Operation): Outcome {
    try {
      return { ok: true, value: operation.work() };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private settle(group: Operation[], outcomes: Outcome[]): void {
    for (const [i, operation] of group.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.ok) operation.resolve(outcome.value);
      else operation.reject(outcome.error);
    }
  }

  private count(group: Operation[], writes: boolean): void {
    if (!writes) return;
    this.transactions++;
    this.operations += group.length;
    if (this.onBusy !== undefined && this.transactions >= this.busyAfter) {
      const onBusy = this.onBusy;
      this.onBusy = undefined;
      onBusy();
    }
  }

  private requeue(operations: Operation[]): void {
    if (operations.length === 0) return;
    this.pending = [...operations, ...this.pending];
    this.pendingWrites ||= operations.some((operation) => operation.writes);
    this.scheduled ??= setImmediate(() => this.flush());
  }
}

function rolledBack(cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(
    `SQLite rolled back the transaction this write was part of (${reason}); it was not stored, try it again`,
    { cause },
  );
}
