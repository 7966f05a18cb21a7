import type { RunEvent, RunState } from "../graph/types.js";
import type { KeyValue } from "../ports/kv.js";

/**
 * Where a run lives in the KeyValue store.
 *
 * The source of truth is the run's append-only event log: event N is stored at `runlog/<id>/<N>` with
 * setIfAbsent, so appending is the compare-and-set on the run's version (exactly one writer wins
 * version N). `run/<id>` holds a snapshot of the state at some version, a cache that makes loading
 * cheap: a stale snapshot is harmless because loading replays the log after it. Steps therefore cost
 * one small write each instead of re-serialising the whole state.
 */
export const runKeys = {
  snapshot: (runId: string) => `run/${runId}`,
  snapshotPrefix: "run/",
  log: (runId: string, seq: number) => `runlog/${runId}/${String(seq).padStart(10, "0")}`,
  logPrefix: (runId: string) => `runlog/${runId}/`,
  active: (runId: string) => `run-active/${runId}`,
  activePrefix: "run-active/",
  stepClaim: (dedupeId: string) => `step/${dedupeId}`,
  /** Newest first: the key sorts by (MAX - startedAt), then run id. */
  index: (startedAt: number, runId: string) =>
    `run-index/${String(INDEX_EPOCH_MAX - startedAt).padStart(14, "0")}/${runId}`,
  indexPrefix: "run-index/",
};

/** Larger than any epoch-millisecond timestamp we will see, so inverted keys stay positive. */
const INDEX_EPOCH_MAX = 99_999_999_999_999;

/** What the run index stores per run: enough to filter listings without loading every run. */
export interface RunIndexEntry {
  runId: string;
  planId: string;
  planVersion: number;
  workflow: string;
  startedAt: number;
  parentRunId?: string;
}

export interface LoggedEvent {
  seq: number;
  event: RunEvent;
}

/**
 * Catching up usually finds nothing or one event (the snapshot is refreshed after every batch of work),
 * so the first read asks for one key; each further round trip asks for twice as many, up to this.
 */
const MAX_LOG_BATCH = 64;

export class RunStore {
  constructor(readonly kv: KeyValue) {}

  /** True when this call stored event `seq`; false when another writer got there first. */
  async append(runId: string, seq: number, event: RunEvent): Promise<boolean> {
    const result = await this.kv.setIfAbsent(runKeys.log(runId, seq), event);
    return result.ok;
  }

  /** Events from `fromSeq` on, up to the first gap. */
  async readLog(runId: string, fromSeq: number): Promise<RunEvent[]> {
    const first = await this.kv.get<RunEvent>(runKeys.log(runId, fromSeq));
    if (!first) return [];
    const events: RunEvent[] = [first.value];
    for (let seq = fromSeq + 1, batch = 2; ; seq += batch, batch = Math.min(batch * 2, MAX_LOG_BATCH)) {
      const keys = Array.from({ length: batch }, (_, i) => runKeys.log(runId, seq + i));
      const entries = await this.kv.getMany<RunEvent>(keys);
      for (const entry of entries) {
        if (!entry) return events;
        events.push(entry.value);
      }
    }
  }

  /** A page of the log for readers (API, event streams): events with seq > afterSeq. */
  async listLog(runId: string, afterSeq = 0, limit = 100): Promise<LoggedEvent[]> {
    const keys = Array.from({ length: limit }, (_, i) => runKeys.log(runId, afterSeq + 1 + i));
    const entries = await this.kv.getMany<RunEvent>(keys);
    const out: LoggedEvent[] = [];
    for (const [i, entry] of entries.entries()) {
      if (!entry) break;
      out.push({ seq: afterSeq + 1 + i, event: entry.value });
    }
    return out;
  }

  async readSnapshot(runId: string): Promise<RunState | undefined> {
    return (await this.kv.get<RunState>(runKeys.snapshot(runId)))?.value;
  }

  async writeSnapshot(state: RunState): Promise<void> {
    await this.kv.set(runKeys.snapshot(state.runId), state);
  }

  async index(state: RunState): Promise<void> {
    const entry: RunIndexEntry = {
      runId: state.runId,
      planId: state.plan.id,
      planVersion: state.plan.version,
      workflow: state.plan.workflow,
      startedAt: state.startedAt,
      ...(state.parent ? { parentRunId: state.parent.runId } : {}),
    };
    await this.kv.set(runKeys.index(state.startedAt, state.runId), entry);
  }

  async markActive(runId: string): Promise<void> {
    await this.kv.set(runKeys.active(runId), { runId });
  }

  async clearActive(runId: string): Promise<void> {
    await this.kv.delete(runKeys.active(runId));
  }

  /** Ids of runs that have not finished (for recovery after a restart). */
  async *activeRunIds(): AsyncGenerator<string> {
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(runKeys.activePrefix, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const entry of page.entries) yield entry.key.slice(runKeys.activePrefix.length);
      cursor = page.cursor;
    } while (cursor);
  }
}
