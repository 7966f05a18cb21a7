import type { RunState, RunStatus } from "../graph/types.js";
import type { Workflow } from "../plan/schema.js";
import type { KeyValue } from "../ports/kv.js";
import { type RunIndexEntry, runKeys } from "../runner/run-store.js";
import type { Runner } from "../runner/runner.js";
import { ApiProblem } from "./problem.js";

export interface RunFilters {
  workflow?: Workflow;
  status?: RunStatus;
  plan?: string;
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms). */
  until?: number;
}

export interface RunSummary {
  runId: string;
  planId: string;
  planVersion: number;
  workflow: Workflow;
  status: RunStatus;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  parentRunId?: string;
}

export interface RunPage {
  items: RunSummary[];
  nextCursor?: string;
  scanned: number;
}

/** Index entries read per request at most: a selective filter returns a short page and a cursor instead. */
const SCAN_BUDGET = 1000;

/**
 * Newest-first listing over the run index (`run-index/<inverted start time>/<runId>`). Workflow, plan
 * and time filters use the index entry alone; status comes from each run's snapshot (fetched with one
 * getMany per index page), so filtering by status scans the index. Each index page is requested with
 * exactly the number of entries still wanted, so the KV cursor after it is a precise resume point.
 */
export async function listRuns(
  kv: KeyValue,
  runner: Runner,
  filters: RunFilters,
  limit: number,
  cursor?: string,
): Promise<RunPage> {
  let kvCursor = cursor === undefined ? undefined : decodeCursor(cursor);
  const items: RunSummary[] = [];
  let scanned = 0;
  let exhausted = false;
  while (items.length < limit && scanned < SCAN_BUDGET) {
    const want = Math.min(limit - items.length, SCAN_BUDGET - scanned);
    const page = await kv.list<RunIndexEntry>(runKeys.indexPrefix, {
      limit: want,
      ...(kvCursor !== undefined ? { cursor: kvCursor } : {}),
    });
    scanned += page.entries.length;
    const candidates: RunIndexEntry[] = [];
    let pastSince = false;
    for (const { value } of page.entries) {
      if (filters.since !== undefined && value.startedAt < filters.since) {
        // Newest first: everything after this started even earlier.
        pastSince = true;
        break;
      }
      if (filters.until !== undefined && value.startedAt >= filters.until) continue;
      if (filters.workflow !== undefined && value.workflow !== filters.workflow) continue;
      if (filters.plan !== undefined && value.planId !== filters.plan) continue;
      candidates.push(value);
    }
    const states = await snapshots(kv, runner, candidates);
    for (const [i, entry] of candidates.entries()) {
      const summary = summarise(entry, states[i]);
      if (filters.status !== undefined && summary.status !== filters.status) continue;
      items.push(summary);
    }
    kvCursor = page.cursor;
    if (pastSince || kvCursor === undefined) {
      exhausted = true;
      break;
    }
  }
  return {
    items,
    scanned,
    ...(!exhausted && kvCursor !== undefined ? { nextCursor: encodeCursor(kvCursor) } : {}),
  };
}

/** Snapshots for the candidates in one round trip; a run without one (a crash before its first write) is loaded. */
async function snapshots(
  kv: KeyValue,
  runner: Runner,
  entries: RunIndexEntry[],
): Promise<Array<RunState | undefined>> {
  if (entries.length === 0) return [];
  const found = await kv.getMany<RunState>(entries.map((entry) => runKeys.snapshot(entry.runId)));
  return Promise.all(
    found.map((snapshot, i) => (snapshot ? snapshot.value : runner.load(entries[i]!.runId))),
  );
}

function summarise(entry: RunIndexEntry, state: RunState | undefined): RunSummary {
  return {
    runId: entry.runId,
    planId: entry.planId,
    planVersion: entry.planVersion,
    workflow: entry.workflow as Workflow,
    status: state?.status ?? "running",
    startedAt: entry.startedAt,
    updatedAt: state?.updatedAt ?? entry.startedAt,
    ...(state?.finishedAt !== undefined ? { finishedAt: state.finishedAt } : {}),
    ...(entry.parentRunId !== undefined ? { parentRunId: entry.parentRunId } : {}),
  };
}

/** Our cursor wraps the KV adapter's opaque one, so its format can change without breaking clients' rules. */
function encodeCursor(kvCursor: string): string {
  return Buffer.from(JSON.stringify({ k: kvCursor }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (parsed !== null && typeof parsed === "object" && typeof (parsed as { k?: unknown }).k === "string") {
      return (parsed as { k: string }).k;
    }
  } catch {
    // fall through to the problem below
  }
  throw new ApiProblem(400, {
    kind: "bad-request",
    detail: "cursor is not one this server issued: pass nextCursor from the previous page unchanged",
    errors: [{ path: "query.cursor", message: "unknown cursor" }],
  });
}
