import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  KeyValue,
  KvConditionalResult,
  KvEntry,
  KvListOptions,
  KvListPage,
  ToolCatalog,
} from "../../src/index.js";
import { NODE_TYPES } from "../../src/index.js";

export const FIXTURES = join(import.meta.dirname, "../fixtures/plans");

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), "utf8");
}

/** Every built-in node type has a handler. */
export const allNodeTypes = new Set<string>(NODE_TYPES);

const TOOLS = new Map([
  ["http.request", { name: "http.request", capabilities: ["network.egress"] }],
  ["threatintel.ip", { name: "threatintel.ip", capabilities: ["network.egress"] }],
  ["threatintel.domain", { name: "threatintel.domain", capabilities: ["network.egress"] }],
  ["alerts.search", { name: "alerts.search" }],
]);

export const tools: ToolCatalog & { names(): Iterable<string> } = {
  get: (name) => TOOLS.get(name),
  names: () => TOOLS.keys(),
};

/**
 * A small in-memory KeyValue with the port's version and compare-and-set semantics (no TTL). Every
 * call yields to the event loop first, so concurrent callers really interleave between calls.
 */
export class MapKeyValue implements KeyValue {
  readonly data = new Map<string, { json: string; version: number }>();
  calls = 0;
  /** Conditional writes that lost (the key's version had moved). */
  conflicts = 0;

  private async tick(): Promise<void> {
    this.calls++;
    await new Promise((resolve) => setImmediate(resolve));
  }

  async get<T = unknown>(key: string): Promise<KvEntry<T> | undefined> {
    await this.tick();
    const entry = this.data.get(key);
    return entry ? { value: JSON.parse(entry.json) as T, version: entry.version } : undefined;
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<KvEntry<T> | undefined>> {
    return Promise.all(keys.map((k) => this.get<T>(k)));
  }

  async set(key: string, value: unknown): Promise<number> {
    await this.tick();
    const version = (this.data.get(key)?.version ?? 0) + 1;
    this.data.set(key, { json: JSON.stringify(value), version });
    return version;
  }

  async setIfAbsent<T = unknown>(key: string, value: unknown): Promise<KvConditionalResult<T>> {
    return this.compareAndSet<T>(key, value, 0);
  }

  async compareAndSet<T = unknown>(
    key: string,
    value: unknown,
    expectedVersion: number,
  ): Promise<KvConditionalResult<T>> {
    await this.tick();
    const entry = this.data.get(key);
    const current = entry?.version ?? 0;
    if (current !== expectedVersion) {
      this.conflicts++;
      return {
        ok: false,
        current: entry ? { value: JSON.parse(entry.json) as T, version: entry.version } : undefined,
      };
    }
    this.data.set(key, { json: JSON.stringify(value), version: current + 1 });
    return { ok: true, version: current + 1 };
  }

  async delete(key: string, options: { expectedVersion?: number } = {}): Promise<boolean> {
    await this.tick();
    const entry = this.data.get(key);
    if (!entry) return false;
    if (options.expectedVersion !== undefined && entry.version !== options.expectedVersion) return false;
    return this.data.delete(key);
  }

  async list<T = unknown>(prefix: string, options: KvListOptions = {}): Promise<KvListPage<T>> {
    await this.tick();
    const limit = options.limit ?? 100;
    const keys = [...this.data.keys()]
      .filter((k) => k.startsWith(prefix) && (options.cursor === undefined || k > options.cursor))
      .sort();
    const page = keys.slice(0, limit);
    return {
      entries: page.map((key) => {
        const entry = this.data.get(key)!;
        return { key, value: JSON.parse(entry.json) as T, version: entry.version };
      }),
      ...(keys.length > limit ? { cursor: page[page.length - 1]! } : {}),
    };
  }

  async increment(key: string, by = 1): Promise<number> {
    await this.tick();
    const entry = this.data.get(key);
    const next = (entry ? (JSON.parse(entry.json) as number) : 0) + by;
    this.data.set(key, { json: JSON.stringify(next), version: (entry?.version ?? 0) + 1 });
    return next;
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
