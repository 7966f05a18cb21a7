import type { KeyValue } from "@aat/core";
import { CodeIndex, type IndexOptions, type IndexStats } from "./indexer.js";
import type { Workspace, Workspaces } from "./workspace.js";

export interface CodingServiceOptions {
  workspaces: Workspaces;
  /** Where indexes are kept (any KeyValue adapter: memory, SQLite, Redis, DynamoDB, …). */
  kv: KeyValue;
  index?: Omit<IndexOptions, "onProgress">;
  /**
   * Opens a repository this process has not opened yet (added by another process, e.g. the API while
   * this is a worker). Resolves when `workspaces` holds it; throws a not_found CodingInputError otherwise.
   */
  open?: (repo: string) => Promise<void>;
}

/** Repositories and their indexes: loads an index from the store once, indexes on first use. */
export class CodingService {
  readonly workspaces: Workspaces;
  private readonly cache = new Map<string, Promise<CodeIndex>>();
  /** Re-index runs of this process: a read during one waits for it rather than building a second index. */
  private readonly reindexing = new Map<string, Promise<IndexStats>>();

  constructor(private readonly options: CodingServiceOptions) {
    this.workspaces = options.workspaces;
  }

  /** The repository's workspace, opened through `options.open` when this process does not hold it yet. */
  async workspace(repo: string): Promise<Workspace> {
    if (this.options.open && !this.workspaces.list().some((w) => w.id === repo))
      await this.options.open(repo);
    return this.workspaces.get(repo);
  }

  /** The repository's index: from memory, else from the store, else built now and saved. */
  index(repo: string): Promise<CodeIndex> {
    let entry = this.cache.get(repo);
    if (!entry) {
      const running = this.reindexing.get(repo);
      if (running)
        return running.then(
          () => this.index(repo),
          () => this.index(repo),
        );
      entry = (async () => {
        const workspace = await this.workspace(repo);
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
    const running = this.reindexing.get(repo);
    if (running) await running.catch(() => undefined);
    const run = this.reindexOnce(repo, onProgress);
    this.reindexing.set(repo, run);
    try {
      return await run;
    } finally {
      if (this.reindexing.get(repo) === run) this.reindexing.delete(repo);
    }
  }

  private async reindexOnce(repo: string, onProgress?: IndexOptions["onProgress"]): Promise<IndexStats> {
    // A first read may be building the index right now: let it finish, then update what it saved.
    await this.cache.get(repo)?.catch(() => undefined);
    const workspace = await this.workspace(repo);
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
