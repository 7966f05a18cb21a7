import { z } from "zod";
import type { KeyValue } from "../../ports/kv.js";
import { ALERT_STATUSES, type AlertStatus, normalisedAlertSchema, SEVERITIES } from "./ocsf.js";

export const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate", "other"] as const;

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

/** Alerts in KV, one document each under a time-ordered id; changes by compare-and-set. */
export class AlertStore {
  constructor(private readonly kv: KeyValue) {}

  async create(record: AlertRecord): Promise<void> {
    const put = await this.kv.setIfAbsent(ITEM_PREFIX + record.alert.id, record);
    if (!put.ok) throw new Error(`alert ${record.alert.id} exists already`);
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    const entry = await this.kv.get(ITEM_PREFIX + id);
    return entry ? alertRecordSchema.parse(entry.value) : undefined;
  }

  async delete(id: string): Promise<void> {
    await this.kv.delete(ITEM_PREFIX + id);
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
      const put = await this.kv.compareAndSet(ITEM_PREFIX + id, next, entry.version);
      if (put.ok) return next;
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

/**
 * Filters, sorts and pages alerts. The store has no secondary indexes (KV), so this scans: fine for
 * the thousands of open alerts a team handles; a SQL-backed store would push it down (docs/decisions.md).
 */
export async function queryAlerts(
  store: AlertStore,
  query: AlertQuery,
): Promise<{ items: AlertRecord[]; cursor?: string }> {
  const from = query.from ? Date.parse(query.from) : undefined;
  const to = query.to ? Date.parse(query.to) : undefined;
  const words = (query.q ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const observable = query.observable?.toLowerCase();
  const matches: AlertRecord[] = [];
  for await (const r of store.all()) {
    const a = r.alert;
    if (query.status && r.status !== query.status) continue;
    if (query.severity && a.severity.toLowerCase() !== query.severity) continue;
    if (query.source && a.source !== query.source) continue;
    if (query.assignee && r.assignee !== query.assignee) continue;
    if (from !== undefined && a.time < from) continue;
    if (to !== undefined && a.time > to) continue;
    if (observable && !a.observables.some((o) => o.value.toLowerCase() === observable)) continue;
    if (words.length > 0) {
      const title = a.title.toLowerCase();
      if (!words.every((w) => title.includes(w))) continue;
    }
    matches.push(r);
  }
  const desc = query.sort.startsWith("-");
  const field = query.sort.replace(/^-/, "") as "time" | "severity" | "last_seen";
  const keyOf = (r: AlertRecord) =>
    field === "severity" ? r.alert.severity_id : field === "time" ? r.alert.time : r.alert.last_seen;
  const compare = (x: AlertRecord, y: AlertRecord) => {
    const d = keyOf(x) - keyOf(y) || (x.alert.id < y.alert.id ? -1 : x.alert.id > y.alert.id ? 1 : 0);
    return desc ? -d : d;
  };
  matches.sort(compare);
  let start = 0;
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    start = matches.findIndex((r) => {
      const d = compare(r, {
        alert: { ...r.alert, id: after.id, time: after.k, severity_id: after.k, last_seen: after.k },
      } as AlertRecord);
      return d > 0;
    });
    if (start < 0) start = matches.length;
  }
  const items = matches.slice(start, start + query.limit);
  const last = items.at(-1);
  return {
    items,
    ...(last && start + query.limit < matches.length
      ? { cursor: encodeCursor({ k: keyOf(last), id: last.alert.id }) }
      : {}),
  };
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
