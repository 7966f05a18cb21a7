import * as z from "zod/mini";
import type { KeyValue } from "../../../ports/kv.js";
import { installZodDefaults } from "../../../zod-defaults.js";
import { ToolError } from "../../errors.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

export interface NotesOptions {
  kv: KeyValue;
  /** Largest note value, as JSON (default 64 KiB). */
  maxValueBytes?: number;
  /** Notes one run may keep (default 1,000). */
  maxNotesPerRun?: number;
  /** Notes expire this long after their last write (default 30 days). */
  ttlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const noteKeySchema = z
  .string()
  .check(
    z.minLength(1, "must not be empty"),
    z.maxLength(200, "may be at most 200 characters"),
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/,
      "must start with a letter or digit and use letters, digits and . _ : / -",
    ),
  );

/**
 * Key-value notes scoped to one run, at `notes/<runId>/<key>` in the KeyValue port (the run id
 * URI-encoded, so one run's prefix never covers another's). A counter per run enforces the count limit.
 */
export class RunNotes {
  readonly maxValueBytes: number;
  readonly maxNotesPerRun: number;
  private readonly ttlMs: number;

  constructor(private readonly options: NotesOptions) {
    this.maxValueBytes = options.maxValueBytes ?? 64 * 1024;
    this.maxNotesPerRun = options.maxNotesPerRun ?? 1_000;
    this.ttlMs = options.ttlMs ?? 30 * DAY_MS;
  }

  async put(runId: string, key: string, value: unknown): Promise<{ created: boolean; bytes: number }> {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes > this.maxValueBytes) {
      throw new ToolError(
        `note "${key}" is ${bytes} bytes as JSON; notes may be at most ${this.maxValueBytes} bytes`,
        {
          code: "note_too_large",
          retryable: false,
        },
      );
    }
    const kv = this.options.kv;
    const at = noteStorageKey(runId, key);
    const first = await kv.setIfAbsent(at, value, { ttlMs: this.ttlMs });
    if (!first.ok) {
      await kv.set(at, value, { ttlMs: this.ttlMs });
      return { created: false, bytes };
    }
    // Counted only by the writer that created the key, so concurrent writes of one key count once.
    const counter = countKey(runId);
    const count = await kv.increment(counter, 1, { ttlMs: this.ttlMs });
    if (count > this.maxNotesPerRun) {
      await kv.delete(at, { expectedVersion: first.version });
      await kv.increment(counter, -1, { ttlMs: this.ttlMs });
      throw new ToolError(
        `this run already keeps ${this.maxNotesPerRun} notes, the limit; overwrite an existing key instead of adding one`,
        { code: "too_many_notes", retryable: false },
      );
    }
    return { created: true, bytes };
  }

  async get(runId: string, key: string): Promise<{ found: boolean; value: unknown }> {
    const entry = await this.options.kv.get(noteStorageKey(runId, key));
    return entry === undefined ? { found: false, value: null } : { found: true, value: entry.value };
  }

  async list(
    runId: string,
    prefix: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ notes: Array<{ key: string; value: unknown }>; cursor?: string }> {
    const base = runPrefix(runId);
    const page = await this.options.kv.list(base + prefix, { limit, ...(cursor ? { cursor } : {}) });
    return {
      notes: page.entries.map((entry) => ({ key: entry.key.slice(base.length), value: entry.value })),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    };
  }
}

export function noteStorageKey(runId: string, key: string): string {
  return runPrefix(runId) + key;
}

function runPrefix(runId: string): string {
  return `notes/${encodeURIComponent(runId)}/`;
}

function countKey(runId: string): string {
  return `notes-count/${encodeURIComponent(runId)}`;
}
