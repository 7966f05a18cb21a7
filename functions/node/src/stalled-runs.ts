import {
  type Clock,
  type KeyValue,
  type RunEvent,
  type Runner,
  type RunState,
  runKeys,
  TERMINAL_RUN_STATUSES,
} from "@aat/core";
import type { RuntimeLogger } from "./logger.js";

export interface StalledRunSweeperOptions {
  kv: KeyValue;
  runner: Runner;
  clock: Clock;
  logger: RuntimeLogger;
  /** How often one replica looks for stalled runs (default 30 s). */
  intervalMs?: number;
  /** A queued step or a due wait this much older than expected counts as stalled (default 60 s). */
  stalledAfterMs?: number;
}

const PAGE = 100;

/**
 * Finds runs whose next step was decided but never reached the queue, and reconciles them.
 *
 * The runner appends an event and then publishes the commands it implies. When the publish fails (the
 * queue was down at that moment) the event is stored but its message is not; the message being handled
 * is redelivered, finds its step completed, and acks: nothing publishes the next step again. Start-up
 * reconciles every unfinished run, but a process that keeps running needs this sweep. Once per interval
 * one replica (a KeyValue claim per interval decides which) lists the unfinished runs; those whose
 * snapshot has not moved for `stalledAfterMs` are loaded, and if a step has been queued (or a wait due)
 * for that long, `Runner.reconcile` re-issues what the run waits for. Re-publishing carries the same
 * dedupe id, so a message that did reach the queue is not doubled within the queue's duplicate window,
 * and a copy after it is answered from the step's dedupe record.
 */
export class StalledRunSweeper {
  private readonly intervalMs: number;
  private readonly stalledAfterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** When this replica last reconciled each run: a slow run is given `stalledAfterMs` to move on. */
  private readonly reconciledAt = new Map<string, number>();

  constructor(private readonly options: StalledRunSweeperOptions) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.stalledAfterMs = options.stalledAfterMs ?? 60_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) =>
          this.options.logger.warn(
            { error: error instanceof Error ? error.message : String(error) },
            "looking for stalled runs failed; trying again next interval",
          ),
        )
        .finally(() => {
          this.running = undefined;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass (when this replica wins the interval's claim); returns how many runs were reconciled. */
  async sweep(): Promise<number> {
    const { kv, clock } = this.options;
    const now = clock.now();
    const interval = Math.floor(now / this.intervalMs);
    const claim = await kv.setIfAbsent(
      `runtime/stalled-run-sweep/${interval}`,
      { at: now },
      {
        ttlMs: this.intervalMs * 2,
      },
    );
    if (!claim.ok) return 0;
    for (const [runId, at] of this.reconciledAt) {
      if (at <= now - this.stalledAfterMs) this.reconciledAt.delete(runId);
    }
    let reconciled = 0;
    let cursor: string | undefined;
    do {
      const page = await kv.list(runKeys.activePrefix, { limit: PAGE, ...(cursor ? { cursor } : {}) });
      const runIds = page.entries.map((entry) => entry.key.slice(runKeys.activePrefix.length));
      const snapshots = await kv.getMany<RunState>(runIds.map((runId) => runKeys.snapshot(runId)));
      // A run gets its snapshot with its first change after the start; until then its first event tells
      // when it started (no later than its real last update, so a recent one means not stalled).
      const unsnapshotted = runIds.filter((_, index) => snapshots[index] === undefined);
      const firsts = new Map<string, number>();
      if (unsnapshotted.length > 0) {
        const events = await kv.getMany<RunEvent>(unsnapshotted.map((runId) => runKeys.log(runId, 1)));
        for (const [index, entry] of events.entries()) {
          if (entry) firsts.set(unsnapshotted[index]!, entry.value.at);
        }
      }
      for (const [index, runId] of runIds.entries()) {
        const updatedAt = snapshots[index]?.value.updatedAt ?? firsts.get(runId);
        if (updatedAt !== undefined && updatedAt > now - this.stalledAfterMs) continue;
        if (this.reconciledAt.has(runId)) continue;
        if (await this.reconcileIfStalled(runId, now)) reconciled++;
      }
      cursor = page.cursor;
    } while (cursor);
    if (reconciled > 0) {
      this.options.logger.warn(
        { runs: reconciled, stalledAfterMs: this.stalledAfterMs },
        `re-issued the pending work of ${reconciled} run(s) that made no progress for ${this.stalledAfterMs} ms`,
      );
    }
    return reconciled;
  }

  private async reconcileIfStalled(runId: string, now: number): Promise<boolean> {
    const state = await this.options.runner.load(runId);
    if (!state || !isStalled(state, now - this.stalledAfterMs)) return false;
    await this.options.runner.reconcile(runId);
    this.reconciledAt.set(runId, now);
    return true;
  }
}

/**
 * A step queued before `before` that never started, a wait that was due before `before`, or a run that
 * ended before `before` but is still marked active (what follows its end was interrupted: the end hook,
 * the parent's notice).
 */
function isStalled(state: RunState, before: number): boolean {
  if (TERMINAL_RUN_STATUSES.includes(state.status)) return state.updatedAt < before;
  return Object.values(state.steps).some(
    (step) =>
      (step.status === "queued" && step.queuedAt !== undefined && step.queuedAt < before) ||
      (step.suspended === "timer" && step.waitUntil !== undefined && step.waitUntil < before),
  );
}
