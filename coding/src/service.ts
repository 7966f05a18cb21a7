import type { KeyValue } from "@aat/core";
import { CodeIndex, type IndexOptions, type IndexStats } from "./indexer.js";
import type { Workspaces } from "./workspace.js";

export interface CodingServiceOptions {
  workspaces: Workspaces;
  /** Where indexes are kept (any KeyValue adapter: memory, SQLite, Redis, DynamoDB, …). */
  kv: KeyValue;
  index?: Omit<IndexOptions, "onProgress">;
}

/** Repositories and their indexes: loads an index from the store once, indexes on first use. */
export class CodingService {
  readonly workspaces: Workspaces;
  private readonly cache = new Map<string, Promise<CodeIndex>>();

  constructor(private readonly options: CodingServiceOptions) {
    this.workspaces = options.workspaces;
  }

  /** The repository's index: from memory, else from the store, else built now and saved. */
  index(repo: string): Promise<CodeIndex> {
    let entry = this.cache.get(repo);
    if (!entry) {
      entry = (async () => {
        const workspace = this.workspaces.get(repo);
        const stored = await CodeIndex.load(this.options.kv, repo);
        if (stored) return stored;
        const index = CodeIndex.empty(repo);
        await index.update(workspace, this.options.index);
        await index.save(this.options.kv);
        return index;
      })();
      entry.catch(() => this.cache.delete(repo));
      this.cache.set(repo, entry);
    }
    return entry;
  }

  /** Re-reads the workspace (only changed files are parsed) and saves the index. */
  async reindex(repo: string, onProgress?: IndexOptions["onProgress"]): Promise<IndexStats> {
    const workspace = this.workspaces.get(repo);
    const index = (await CodeIndex.load(this.options.kv, repo)) ?? CodeIndex.empty(repo);
    const stats = await index.update(workspace, {
      ...this.options.index,
      ...(onProgress ? { onProgress } : {}),
    });
    await index.save(this.options.kv);
    this.cache.set(repo, Promise.resolve(index));
    return stats;
  }

  async forget(repo: string): Promise<void> {
    this.cache.delete(repo);
    await CodeIndex.delete(this.options.kv, repo);
  }
}
