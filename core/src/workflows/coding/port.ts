/**
 * What the /v1/coding routes need from the coding workflow. Core defines the port and the runtimes
 * implement it (functions/node with @aat/coding: the indexer, grammars, file system and git), so core
 * stays free of file-system and tree-sitter code. Errors are ToolErrors whose `code` the routes map to
 * HTTP statuses: not_found → 404; conflict → 409; path_outside_workspace, invalid_input, url_not_allowed,
 * clone_failed, patch_* → 422.
 */

export type CodingRepositorySource =
  | { kind: "local"; path: string }
  | { kind: "git"; url: string; ref?: string };

export interface CodingIndexSummary {
  status: "none" | "indexing" | "ready" | "failed";
  /** Epoch ms of the last finished index run. */
  indexedAt?: number;
  files?: number;
  error?: string;
}

export interface CodingRepository {
  id: string;
  name: string;
  source: CodingRepositorySource;
  createdAt: number;
  /** The commit checked out when the repository is a git work tree. */
  head?: string;
  index: CodingIndexSummary;
}

export interface CodingIndexJob {
  id: string;
  repo: string;
  status: "running" | "succeeded" | "failed";
  startedAt: number;
  finishedAt?: number;
  /** Files looked at so far and how many of them were parsed (new or changed). */
  progress: { seen: number; indexed: number; path?: string };
  stats?: CodingIndexStats;
  error?: string;
}

/** What one index run did. */
export interface CodingIndexStats {
  files: number;
  /** New or changed files parsed in this run. */
  indexed: number;
  unchanged: number;
  removed: number;
  skippedBinary: number;
  skippedTooLarge: number;
  /** Lines of the files parsed in this run. */
  lines: number;
  /** Bytes of the files parsed in this run. */
  bytes: number;
}

export type CodingSymbolKind = "function" | "class" | "method" | "interface" | "type" | "variable";

export interface CodingRange {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export interface CodingSymbol {
  path: string;
  name: string;
  kind: CodingSymbolKind;
  container?: string;
  range: CodingRange;
}

export interface CodingSearchHit {
  path: string;
  score: number;
  symbols: Array<{ name: string; kind: CodingSymbolKind; line: number }>;
  lines: Array<{ line: number; text: string }>;
}

export interface CodingFileSlice {
  path: string;
  startLine: number;
  endLine: number;
  totalLines: number;
  text: string;
  language?: string;
}

export interface CodingTreeEntry {
  path: string;
  type: "file" | "directory";
  lines?: number;
  language?: string;
}

export interface CodingApiDeps {
  /** True when only the offline model is configured: the plans then answer from the index alone. */
  offline(): boolean;
  addRepository(input: { id: string; name?: string; source: CodingRepositorySource }): Promise<{
    repository: CodingRepository;
    job: CodingIndexJob;
  }>;
  listRepositories(): Promise<CodingRepository[]>;
  getRepository(id: string): Promise<CodingRepository | undefined>;
  /** Forgets the repository and its index; a clone made by the server is removed from disk. */
  deleteRepository(id: string): Promise<boolean>;
  /** Starts (or joins the running) re-index; only changed files are parsed. */
  reindex(id: string): Promise<CodingIndexJob>;
  /** The running or last index job of a repository. */
  indexJob(id: string): Promise<CodingIndexJob | undefined>;
  search(id: string, query: string, limit: number): Promise<CodingSearchHit[]>;
  symbols(
    id: string,
    filter: { path?: string; name?: string; kind?: CodingSymbolKind; limit: number },
  ): Promise<CodingSymbol[]>;
  references(
    id: string,
    name: string,
    limit: number,
  ): Promise<{
    definitions: CodingSymbol[];
    references: Array<{ path: string; name: string; line: number; column: number }>;
  }>;
  read(id: string, path: string, startLine: number, endLine?: number): Promise<CodingFileSlice>;
  tree(id: string, path: string, depth: number): Promise<CodingTreeEntry[]>;
}
