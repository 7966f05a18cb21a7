import type { RunEvent, RunState } from "../graph/types.js";
import type { KeyValue, KvCompanionWrite } from "../ports/kv.js";

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

/**
 * A new run id: an RFC 9562 UUID version 7, whose first 48 bits are the epoch milliseconds `now`.
 * Every key of a run (`run/<id>`, `runlog/<id>/…`, its step claims) starts with the id, so time-ordered
 * ids put the keys of the runs in flight next to each other in any ordered store: the SQLite file then
 * rewrites a few shared index pages per commit instead of one page per run per key family (measured on
 * bench/e2e: 8.5 instead of 24.6 WAL pages per run). Ids made in one process increase strictly, also
 * within a millisecond (a 12-bit counter; when it runs out, the timestamp field moves on by one).
 */
export function newRunId(now: number = Date.now()): string {
  if (now > lastIdMs) {
    lastIdMs = now;
    // A random start leaves room to count up and keeps ids of several processes from lining up.
    idCounter = Math.floor(Math.random() * 0x800);
  } else if (++idCounter > 0xfff) {
    lastIdMs++;
    idCounter = 0;
  }
  const time = lastIdMs.toString(16).padStart(12, "0").slice(-12);
  const counter = idCounter.toString(16).padStart(3, "0");
  // randomUUID's last two groups are 62 random bits with the RFC variant bits already set.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${counter}-${crypto.randomUUID().slice(19)}`;
}

let lastIdMs = -1;
let idCounter = 0;

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
 * Catching up usually finds no event or one (the snapshot is refreshed after every batch of work, and a
 * worker's own `step.started` follows it), so the first read asks for two keys, which settles both
 * cases in one round trip; each further read asks for twice as many, up to this.
 */
const MAX_LOG_BATCH = 64;

/**
 * The log and the snapshot are only ever read by name (`getMany` of log keys, `get` of the snapshot);
 * runs are listed through `run-index/` and `run-active/`. Written `unlisted`, they cost Redis no sorted-set
 * index entries (two ZADD/ZREM pairs per step and per run start, and index memory for every event).
 */
const BY_NAME = { unlisted: true } as const;

function indexEntry(state: RunState): RunIndexEntry {
  return {
    runId: state.runId,
    planId: state.plan.id,
    planVersion: state.plan.version,
    workflow: state.plan.workflow,
    startedAt: state.startedAt,
    ...(state.parent ? { parentRunId: state.parent.runId } : {}),
  };
}

export class RunStore {
  constructor(readonly kv: KeyValue) {}

  /** True when this call stored event `seq`; false when another writer got there first. */
  async append(runId: string, seq: number, event: RunEvent): Promise<boolean> {
    const result = await this.kv.setIfAbsent(runKeys.log(runId, seq), event, BY_NAME);
    return result.ok;
  }

  /**
   * Stores a new run: its first event (the compare-and-set that makes a start with a known id idempotent)
   * and, only when that wrote, the active marker, the index entry and the caller's `records`. On a
   * KeyValue with `setIfAbsentWith` (Redis) that is one atomic write and one round trip; otherwise the
   * first event, then the rest in parallel. No snapshot: the first event alone gives the state (loading
   * replays the log when `run/<id>` is missing), and the first batch of work that changes the run writes it.
   */
  async create(
    state: RunState,
    event: RunEvent,
    records: readonly KvCompanionWrite[] = [],
  ): Promise<boolean> {
    const { runId } = state;
    if (this.kv.setIfAbsentWith) {
      const companions: KvCompanionWrite[] = [
        { key: runKeys.active(runId), value: { runId } },
        { key: runKeys.index(state.startedAt, runId), value: indexEntry(state) },
        ...records,
      ];
      return (await this.kv.setIfAbsentWith(runKeys.log(runId, 1), event, BY_NAME, companions)).ok;
    }
    if (!(await this.append(runId, 1, event))) return false;
    await Promise.all([
      this.markActive(runId),
      this.index(state),
      ...records.map((record) => this.kv.set(record.key, record.value, record.options)),
    ]);
    return true;
  }

  /** Events from `fromSeq` on, up to the first gap. */
  async readLog(runId: string, fromSeq: number): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    for (let seq = fromSeq, batch = 2; ; seq += batch, batch = Math.min(batch * 2, MAX_LOG_BATCH)) {
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
    await this.kv.set(runKeys.snapshot(state.runId), state, BY_NAME);
  }

  async index(state: RunState): Promise<void> {
    await this.kv.set(runKeys.index(state.startedAt, state.runId), indexEntry(state));
  }

  async markActive(runId: string): Promise<void> {
    await this.kv.set(runKeys.active(runId), { runId });
  }

  async isActive(runId: string): Promise<boolean> {
    return (await this.kv.get(runKeys.active(runId))) !== undefined;
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
