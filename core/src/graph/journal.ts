import type { KeyValue } from "../ports/kv.js";
import type { StepJournal } from "./types.js";

const DAY_MS = 86_400_000;
/** Records read per round trip while catching up; most agent steps have fewer. */
const READ_BATCH = 16;

/**
 * StepJournal on the KeyValue port: record `seq` of a scope lives at `${prefix}${scope}/${seq}` and is
 * written with `setIfAbsent`, so the first writer wins and everyone reads back the same record.
 */
export class KvStepJournal implements StepJournal {
  private readonly prefix: string;
  private readonly ttlMs: number;

  constructor(
    private readonly kv: KeyValue,
    options: { prefix?: string; ttlMs?: number } = {},
  ) {
    this.prefix = options.prefix ?? "journal/";
    this.ttlMs = options.ttlMs ?? 7 * DAY_MS;
  }

  async read(scope: string): Promise<unknown[]> {
    const records: unknown[] = [];
    for (;;) {
      const keys = Array.from({ length: READ_BATCH }, (_, i) => this.keyOf(scope, records.length + i + 1));
      const entries = await this.kv.getMany(keys);
      for (const entry of entries) {
        if (entry === undefined) return records;
        records.push(entry.value);
      }
    }
  }

  async write(scope: string, seq: number, record: unknown): Promise<unknown> {
    const outcome = await this.kv.setIfAbsent(this.keyOf(scope, seq), record, { ttlMs: this.ttlMs });
    if (outcome.ok) return record;
    // Someone wrote this record first (an earlier execution that lost its claim): theirs stands.
    return outcome.current === undefined ? this.write(scope, seq, record) : outcome.current.value;
  }

  private keyOf(scope: string, seq: number): string {
    return `${this.prefix}${scope}/${seq}`;
  }
}

/** StepJournal in memory, for tests and single-process tools that need no durability. */
export class MemoryStepJournal implements StepJournal {
  private readonly scopes = new Map<string, unknown[]>();

  async read(scope: string): Promise<unknown[]> {
    return structuredClone(this.scopes.get(scope) ?? []);
  }

  async write(scope: string, seq: number, record: unknown): Promise<unknown> {
    let records = this.scopes.get(scope);
    if (!records) {
      records = [];
      this.scopes.set(scope, records);
    }
    if (records.length >= seq) return structuredClone(records[seq - 1]);
    if (records.length !== seq - 1)
      throw new Error(`journal ${scope}: record ${seq} written before ${records.length + 1}`);
    records.push(structuredClone(record));
    return record;
  }
}
