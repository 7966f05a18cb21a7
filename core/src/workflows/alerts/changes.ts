import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import type { AlertStatus } from "./ocsf.js";

/**
 * A short-lived feed of alert changes, so a list page can follow new alerts, duplicates merged and
 * status changes as they happen, whichever process made them (API ingest, worker hooks). One KV entry
 * per change under `alerts/changes/<epoch second>/<13-digit ms>-<id>`, kept for FEED_TTL_MS: readers
 * list the few seconds they have not read yet, so a read never walks more than a few seconds of changes.
 */
export const CHANGES_PREFIX = "alerts/changes/";
const FEED_TTL_MS = 10 * 60_000;
/**
 * Seconds re-read behind the newest one already read: a change stamped by a process whose write landed
 * late (or whose clock is a little behind) is still found; keys already sent are skipped by id.
 */
const LOOKBACK_S = 5;
/** How far back a reconnecting reader may resume; further back it is told to reload instead. */
const RESUME_WINDOW_S = 120;

export interface AlertChange {
  id: string;
  status: AlertStatus;
  /** Epoch ms of the change. */
  at: number;
}

export interface FeedItem {
  /** The change's key: the SSE id, and where a reconnecting reader resumes. */
  key: string;
  change: AlertChange;
}

const second = (ms: number) => Math.floor(ms / 1000);
const keyOf = (change: AlertChange) =>
  `${CHANGES_PREFIX}${second(change.at)}/${String(change.at).padStart(13, "0")}-${change.id}`;

/** The epoch second a feed key belongs to, or undefined when `key` is not one (a bad Last-Event-ID). */
export function feedKeySecond(key: string): number | undefined {
  const match = /^alerts\/changes\/(\d{1,12})\/\d{13}-[^/]+$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

export class AlertChangeFeed {
  constructor(
    private readonly kv: KeyValue,
    private readonly clock: Clock,
  ) {}

  /** Records that `id` changed. A hint for live views: a failed write never fails the change itself. */
  async record(id: string, status: AlertStatus): Promise<void> {
    const change = { id, status, at: this.clock.now() };
    await this.kv.set(keyOf(change), change, { ttlMs: FEED_TTL_MS }).catch(() => undefined);
  }

  /** Whether a reader that last saw `key` can resume from it (recent enough; else it should reload). */
  canResume(key: string): boolean {
    const at = feedKeySecond(key);
    return at !== undefined && at >= second(this.clock.now()) - RESUME_WINDOW_S;
  }

  /**
   * A reader of the feed from now on (or after `after`, a key it saw before). `next()` returns the
   * changes not returned yet, oldest first.
   */
  reader(after?: string): { next(): Promise<FeedItem[]> } {
    const sent = new Map<string, number>();
    let from =
      after !== undefined ? (feedKeySecond(after) ?? second(this.clock.now())) : second(this.clock.now());
    const resumeAfter = after;
    return {
      next: async () => {
        const now = second(this.clock.now());
        const out: FeedItem[] = [];
        for (let s = from; s <= now; s++) {
          let cursor: string | undefined;
          do {
            const page = await this.kv.list<AlertChange>(`${CHANGES_PREFIX}${s}/`, {
              limit: 500,
              ...(cursor ? { cursor } : {}),
            });
            for (const entry of page.entries) {
              if (sent.has(entry.key)) continue;
              if (resumeAfter !== undefined && s === feedKeySecond(resumeAfter) && entry.key <= resumeAfter)
                continue;
              sent.set(entry.key, s);
              out.push({ key: entry.key, change: entry.value });
            }
            cursor = page.cursor;
          } while (cursor);
        }
        from = Math.max(from, now - LOOKBACK_S);
        for (const [key, s] of sent) if (s < from) sent.delete(key);
        return out.sort((a, b) => (a.key < b.key ? -1 : 1));
      },
    };
  }
}
