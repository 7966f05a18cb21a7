import type { KeyValue } from "@aat/core";

export interface ChunkedStoreOptions {
  /** Characters of serialised JSON per KeyValue entry (default 64,000: under DynamoDB's 400 KB item limit). */
  chunkChars?: number;
}

interface Head {
  generation: number;
  chunks: number;
  chars: number;
  savedAt: number;
}

/** Another writer saved the same value first; load it again and retry the change. */
export class ConcurrentSaveError extends Error {
  constructor(key: string) {
    super(`${key} was saved by another writer meanwhile; load it again and repeat the change`);
    this.name = "ConcurrentSaveError";
  }
}

/**
 * A large JSON value stored through the KeyValue port as numbered string chunks, so it fits every
 * backend's value size limit. Writes never corrupt what is stored: the chunks of a new generation are
 * written first under their own keys, then the head is switched with compare-and-set, and only then are
 * the previous generation's chunks deleted. A reader sees the old value or the new one, never a mix.
 */
export class ChunkedJsonStore {
  private readonly chunkChars: number;

  constructor(
    private readonly kv: KeyValue,
    options: ChunkedStoreOptions = {},
  ) {
    this.chunkChars = options.chunkChars ?? 64_000;
    if (!Number.isInteger(this.chunkChars) || this.chunkChars < 1)
      throw new Error(`chunkChars must be a positive integer, got ${options.chunkChars}`);
  }

  async load<T>(key: string): Promise<T | undefined> {
    const head = await this.kv.get<Head>(`${key}/head`);
    if (!head) return undefined;
    const { generation, chunks } = head.value;
    const keys = Array.from({ length: chunks }, (_, i) => chunkKey(key, generation, i));
    const parts = await this.kv.getMany<string>(keys);
    const missing = parts.indexOf(undefined);
    if (missing >= 0)
      throw new Error(
        `${key}: chunk ${missing + 1} of ${chunks} (generation ${generation}) is missing from the store; delete ${key} and index again`,
      );
    return JSON.parse(parts.map((p) => p!.value).join("")) as T;
  }

  async save(key: string, value: unknown): Promise<{ chunks: number; chars: number }> {
    const current = await this.kv.get<Head>(`${key}/head`);
    const generation = (current?.value.generation ?? 0) + 1;
    const json = JSON.stringify(value);
    const chunks = Math.max(1, Math.ceil(json.length / this.chunkChars));
    const written: string[] = [];
    for (let i = 0; i < chunks; i++) {
      const k = chunkKey(key, generation, i);
      await this.kv.set(k, json.slice(i * this.chunkChars, (i + 1) * this.chunkChars));
      written.push(k);
    }
    const head: Head = { generation, chunks, chars: json.length, savedAt: Date.now() };
    const result = await this.kv.compareAndSet(`${key}/head`, head, current?.version ?? 0);
    if (!result.ok) {
      for (const k of written) await this.kv.delete(k);
      throw new ConcurrentSaveError(key);
    }
    if (current) await this.deleteGeneration(key, current.value);
    return { chunks, chars: json.length };
  }

  async delete(key: string): Promise<boolean> {
    const head = await this.kv.get<Head>(`${key}/head`);
    if (!head) return false;
    await this.kv.delete(`${key}/head`);
    await this.deleteGeneration(key, head.value);
    return true;
  }

  private async deleteGeneration(key: string, head: Head): Promise<void> {
    for (let i = 0; i < head.chunks; i++) await this.kv.delete(chunkKey(key, head.generation, i));
  }
}

function chunkKey(key: string, generation: number, index: number): string {
  return `${key}/g${generation}/${String(index).padStart(6, "0")}`;
}
