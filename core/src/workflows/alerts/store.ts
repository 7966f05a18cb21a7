import { z } from "zod";
import { type Clock, systemClock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import { AlertChangeFeed } from "./changes.js";
import { ALERT_STATUSES, type AlertStatus, normalisedAlertSchema, SEVERITIES } from "./ocsf.js";
import { RESOLUTIONS } from "./resolutions.js";

export { RESOLUTIONS };

export const timelineEntrySchema = z.object({
  at: z.number(),
  /** Principal id, `source:<id>` for deliveries, `run:<id>` for the triage run. */
  by: z.string(),
  type: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const noteSchema = z.object({ id: z.string(), at: z.number(), by: z.string(), text: z.string() });

export const alertRecordSchema = z.object({
  alert: normalisedAlertSchema,
  status: z.enum(ALERT_STATUSES),
  assignee: z.string().optional(),
  resolution: z.object({ kind: z.enum(RESOLUTIONS), comment: z.string().optional() }).optional(),
  runs: z.array(z.object({ runId: z.string(), at: z.number() })),
  related: z.array(z.string()),
  notes: z.array(noteSchema),
  timeline: z.array(timelineEntrySchema),
  /** Filled by triage (threatintel results by observable); free-form. */
  enrichment: z.record(z.string(), z.unknown()),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

/** Which status may follow which; resolved alerts may be reopened to triaging. */
export const STATUS_TRANSITIONS: Record<AlertStatus, readonly AlertStatus[]> = {
  new: ["triaging", "resolved"],
  triaging: ["awaiting_approval", "resolved"],
  awaiting_approval: ["triaging", "resolved"],
  resolved: ["triaging"],
};

export const ITEM_PREFIX = "alerts/items/";

/**
 * Secondary index entries, so a listing reads the alerts of one page, not all of them (the KeyValue
 * port lists keys by prefix in ascending order):
 * - `alerts/index/time/<inverted time>/<id>`: every alert, newest first
 * - `alerts/index/status/<status>/<inverted time>/<id>`: the alerts of one status, newest first
 * Written before the record changes (a crash leaves an extra entry, never a missing one); a listing
 * checks every entry against the record it names and deletes the entries that no longer match.
 */
export const INDEX_PREFIX = "alerts/index/";
const INDEX_READY_KEY = "alerts/index-ready";
/** An entry whose record moved on this long ago is a writer's leftover, deleted when a listing meets it. */
const STALE_ENTRY_MS = 10 * 60_000;
interface IndexEntry {
  id: string;
  /** When the entry was written (epoch ms). */
  at: number;
}
const MAX_TIME = 9_999_999_999_999;
const inverted = (time: number) => String(MAX_TIME - Math.max(0, Math.min(MAX_TIME, time))).padStart(13, "0");
export const alertIndexKeys = {
  timePrefix: () => `${INDEX_PREFIX}time/`,
  time: (r: AlertRecord) => `${INDEX_PREFIX}time/${inverted(r.alert.time)}/${r.alert.id}`,
  statusPrefix: (status: AlertStatus) => `${INDEX_PREFIX}status/${status}/`,
  status: (r: AlertRecord, status: AlertStatus = r.status) =>
    `${INDEX_PREFIX}status/${status}/${inverted(r.alert.time)}/${r.alert.id}`,
};

/** Alerts in KV, one document each under a time-ordered id; changes by compare-and-set. */
export class AlertStore {
  private indexReady = false;
  /** Every create and change, for live views (GET /v1/alert-events). */
  readonly changes: AlertChangeFeed;

  constructor(
    private readonly kv: KeyValue,
    private readonly clock: Clock = systemClock,
  ) {
    this.changes = new AlertChangeFeed(kv, clock);
  }

  async create(record: AlertRecord): Promise<void> {
    await this.writeIndex(record);
    const put = await this.kv.setIfAbsent(ITEM_PREFIX + record.alert.id, record);
    if (!put.ok) throw new Error(`alert ${record.alert.id} exists already`);
    await this.changes.record(record.alert.id, record.status);
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    const entry = await this.kv.get(ITEM_PREFIX + id);
    return entry ? alertRecordSchema.parse(entry.value) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Array<AlertRecord | undefined>> {
    const entries = await this.kv.getMany(ids.map((id) => ITEM_PREFIX + id));
    return entries.map((e) => (e ? alertRecordSchema.parse(e.value) : undefined));
  }

  async delete(id: string): Promise<void> {
    const record = await this.get(id);
    await this.kv.delete(ITEM_PREFIX + id);
    if (record) {
      await this.kv.delete(alertIndexKeys.time(record)).catch(() => false);
      await this.kv.delete(alertIndexKeys.status(record)).catch(() => false);
    }
  }

  /** Applies `change` under compare-and-set, retrying on a concurrent write; undefined when absent. */
  async update(
    id: string,
    change: (r: AlertRecord) => AlertRecord | undefined,
  ): Promise<AlertRecord | undefined> {
    for (;;) {
      const entry = await this.kv.get(ITEM_PREFIX + id);
      if (!entry) return undefined;
      const current = alertRecordSchema.parse(entry.value);
      const next = change(current);
      if (next === undefined) return current;
      const moved = next.status !== current.status || next.alert.time !== current.alert.time;
      // The new entries first: a crash between here and the write leaves an entry the listing skips.
      if (moved) await this.writeIndex(next);
      const put = await this.kv.compareAndSet(ITEM_PREFIX + id, next, entry.version);
      if (put.ok) {
        if (moved) await this.dropIndex(current, next);
        await this.changes.record(id, next.status);
        return next;
      }
    }
  }

  /** Every alert, oldest first (ids are time-ordered). */
  async *all(): AsyncGenerator<AlertRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(ITEM_PREFIX, { limit: 500, ...(cursor ? { cursor } : {}) });
      for (const e of page.entries) yield alertRecordSchema.parse(e.value);
      cursor = page.cursor;
    } while (cursor);
  }

  /**
   * Walks an index, newest first, yielding the alerts whose record still matches the entry (a status
   * change writes the new entry before the record and drops the old one after, so an entry may briefly
   * be ahead of or behind its record). Entries outside `from`..`to` are passed over by their key, without
   * reading the record. `cursor` is the KeyValue cursor to resume from; the last entry of each KeyValue
   * page carries the cursor after it (`pageSize` sizes the pages so a full result ends on one).
   */
  async *indexed(options: {
    status?: AlertStatus;
    cursor?: string;
    from?: number;
    to?: number;
    pageSize: () => number;
  }): AsyncGenerator<{ record: AlertRecord; cursor: string | undefined }> {
    await this.ensureIndex();
    const { status } = options;
    const prefix = status ? alertIndexKeys.statusPrefix(status) : alertIndexKeys.timePrefix();
    let next = options.cursor;
    for (;;) {
      const page = await this.kv.list<IndexEntry>(prefix, {
        limit: Math.max(1, options.pageSize()),
        ...(next !== undefined ? { cursor: next } : {}),
      });
      const inRange: typeof page.entries = [];
      for (const entry of page.entries) {
        const time = MAX_TIME - Number(entry.key.slice(prefix.length, prefix.length + 13));
        if (options.from !== undefined && time < options.from) {
          page.cursor = undefined; // newest first: every later entry is older still
          break;
        }
        if (options.to === undefined || time <= options.to) inRange.push(entry);
      }
      const records = await this.getMany(inRange.map((e) => e.value.id));
      const last = page.entries.at(-1);
      for (const [i, entry] of inRange.entries()) {
        const record = records[i];
        const fresh =
          record !== undefined &&
          entry.key === (status ? alertIndexKeys.status(record) : alertIndexKeys.time(record));
        if (!fresh) {
          // An entry its record moved away from long ago (a writer crashed before dropping it).
          if (record !== undefined && this.clock.now() - entry.value.at > STALE_ENTRY_MS)
            await this.kv.delete(entry.key, { expectedVersion: entry.version }).catch(() => false);
          continue;
        }
        yield { record, cursor: entry === last ? page.cursor : undefined };
      }
      if (page.cursor === undefined) return;
      next = page.cursor;
    }
  }

  private async writeIndex(record: AlertRecord): Promise<void> {
    const value: IndexEntry = { id: record.alert.id, at: this.clock.now() };
    await this.kv.set(alertIndexKeys.time(record), value);
    await this.kv.set(alertIndexKeys.status(record), value);
  }

  private async dropIndex(before: AlertRecord, after: AlertRecord): Promise<void> {
    for (const [old, now] of [
      [alertIndexKeys.time(before), alertIndexKeys.time(after)],
      [alertIndexKeys.status(before), alertIndexKeys.status(after)],
    ] as const) {
      if (old !== now) await this.kv.delete(old).catch(() => false);
    }
  }

  /** Alerts stored before the index existed get their entries once (a marker key records it). */
  private async ensureIndex(): Promise<void> {
    if (this.indexReady) return;
    if (!(await this.kv.get(INDEX_READY_KEY))) {
      for await (const record of this.all()) await this.writeIndex(record);
      await this.kv.set(INDEX_READY_KEY, { at: this.clock.now() });
    }
    this.indexReady = true;
  }
}

export const alertQuerySchema = z.object({
  status: z.enum(ALERT_STATUSES).optional(),
  severity: z.enum(SEVERITIES.map((s) => s.toLowerCase()) as [string, ...string[]]).optional(),
  source: z.string().optional(),
  assignee: z.string().optional(),
  /** ISO 8601 times; the alert's time (when the product saw it) must be within. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Any observable with exactly this value (case-insensitive). */
  observable: z.string().optional(),
  /** Words that must all appear in the title (case-insensitive). */
  q: z.string().optional(),
  sort: z.enum(["time", "-time", "severity", "-severity", "last_seen", "-last_seen"]).default("-time"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});
export type AlertQuery = z.infer<typeof alertQuerySchema>;

/** Whether an alert passes every filter of the query but `status` and the time range. */
function matcher(query: AlertQuery): (r: AlertRecord) => boolean {
  const words = (query.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const observable = query.observable?.toLowerCase();
  return (r) => {
    const a = r.alert;
    if (query.severity && a.severity.toLowerCase() !== query.severity) return false;
    if (query.source && a.source !== query.source) return false;
    if (query.assignee && r.assignee !== query.assignee) return false;
    if (observable && !a.observables.some((o) => o.value.toLowerCase() === observable)) return false;
    if (words.length > 0) {
      const title = a.title.toLowerCase();
      if (!words.every((w) => title.includes(w))) return false;
    }
    return true;
  };
}

/**
 * Filters, sorts and pages alerts. The default order (-time, newest first) walks an index (by status
 * when the query names one), reading only the alerts it examines for the page; the other orders
 * (time, severity, last_seen) read every alert and sort them (docs/decisions.md).
 */
export async function queryAlerts(
  store: AlertStore,
  query: AlertQuery,
): Promise<{ items: AlertRecord[]; cursor?: string }> {
  const from = query.from ? Date.parse(query.from) : undefined;
  const to = query.to ? Date.parse(query.to) : undefined;
  const matches = matcher(query);
  if (query.sort === "-time") {
    const start = query.cursor === undefined ? undefined : decodeIndexCursor(query.cursor);
    const items: AlertRecord[] = [];
    let cursor: string | undefined;
    const walk = store.indexed({
      ...(query.status ? { status: query.status } : {}),
      ...(start !== undefined ? { cursor: start } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      pageSize: () => query.limit - items.length,
    });
    let first: IteratorResult<{ record: AlertRecord; cursor: string | undefined }>;
    try {
      first = await walk.next();
    } catch (error) {
      // The store refuses a cursor it never returned (the API cursor wraps the store's own).
      if (start === undefined) throw error;
      throw new BadCursorError(
        `cursor is not one this API returned (${error instanceof Error ? error.message : String(error)}): pass the cursor of the previous page unchanged`,
      );
    }
    const hits = async function* () {
      if (!first.done) yield first.value;
      yield* walk;
    };
    for await (const hit of hits()) {
      if (!matches(hit.record)) continue;
      items.push(hit.record);
      if (items.length === query.limit) {
        cursor = hit.cursor;
        break;
      }
    }
    return { items, ...(cursor !== undefined ? { cursor: encodeIndexCursor(cursor) } : {}) };
  }
  const found: AlertRecord[] = [];
  for await (const r of store.all()) {
    const a = r.alert;
    if (query.status && r.status !== query.status) continue;
    if (from !== undefined && a.time < from) continue;
    if (to !== undefined && a.time > to) continue;
    if (matches(r)) found.push(r);
  }
  const desc = query.sort.startsWith("-");
  const field = query.sort.replace(/^-/, "") as "time" | "severity" | "last_seen";
  const keyOf = (r: AlertRecord) =>
    field === "severity" ? r.alert.severity_id : field === "time" ? r.alert.time : r.alert.last_seen;
  const compare = (x: AlertRecord, y: AlertRecord) => {
    const d = keyOf(x) - keyOf(y) || (x.alert.id < y.alert.id ? -1 : x.alert.id > y.alert.id ? 1 : 0);
    return desc ? -d : d;
  };
  found.sort(compare);
  let start = 0;
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    start = found.findIndex((r) => {
      const d = compare(r, {
        alert: { ...r.alert, id: after.id, time: after.k, severity_id: after.k, last_seen: after.k },
      } as AlertRecord);
      return d > 0;
    });
    if (start < 0) start = found.length;
  }
  const items = found.slice(start, start + query.limit);
  const last = items.at(-1);
  return {
    items,
    ...(last && start + query.limit < found.length
      ? { cursor: encodeCursor({ k: keyOf(last), id: last.alert.id }) }
      : {}),
  };
}

const indexCursorSchema = z.object({ i: z.string() });

function encodeIndexCursor(kvCursor: string): string {
  return Buffer.from(JSON.stringify({ i: kvCursor })).toString("base64url");
}

function decodeIndexCursor(value: string): string {
  try {
    return indexCursorSchema.parse(JSON.parse(Buffer.from(value, "base64url").toString("utf8"))).i;
  } catch {
    throw new BadCursorError(
      "cursor is not one this API returned for this sort: pass the cursor of the previous page unchanged, with the same sort",
    );
  }
}

const cursorSchema = z.object({ k: z.number(), id: z.string() });

function encodeCursor(c: z.infer<typeof cursorSchema>): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

export class BadCursorError extends Error {}

function decodeCursor(value: string): z.infer<typeof cursorSchema> {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(value, "base64url").toString("utf8")));
  } catch {
    throw new BadCursorError(
      "cursor is not one this API returned: pass the cursor of the previous page unchanged",
    );
  }
}
