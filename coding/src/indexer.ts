import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { CodingIndexStats, KeyValue } from "@aat/core";
import ignore, { type Ignore } from "ignore";
import MiniSearch, { type Options as MiniSearchOptions, type Query } from "minisearch";
import { type CodeRange, type CodeReference, type CodeSymbol, extract } from "./extract.js";
import { defaultLanguages, type LanguageRegistry } from "./languages/registry.js";
import type { SymbolKind } from "./languages/types.js";
import { ChunkedJsonStore, type ChunkedStoreOptions } from "./store.js";
import type { Workspace } from "./workspace.js";

export interface IndexedFile {
  /** sha256 of the file's bytes: an unchanged hash is not parsed again. */
  hash: string;
  bytes: number;
  lines: number;
  /** Language id when a registered extractor handles the extension; such files have symbols. */
  language?: string;
  symbols: CodeSymbol[];
  references: CodeReference[];
}

export interface IndexOptions {
  /** Files larger than this are skipped (default 1 MiB). */
  maxFileBytes?: number;
  languages?: LanguageRegistry;
  /** Called after each file with the counts so far. */
  onProgress?(progress: { seen: number; indexed: number; path: string }): void;
}

export type IndexStats = CodingIndexStats;

export interface SearchHit {
  path: string;
  score: number;
  /** Symbols of the file whose name matches a query term. */
  symbols: Array<{ name: string; kind: SymbolKind; line: number }>;
  /** Up to three lines containing a query term (1-based). */
  lines: Array<{ line: number; text: string }>;
}

export interface SymbolHit extends CodeSymbol {
  path: string;
}

export interface ReferenceHit extends CodeReference {
  path: string;
}

interface StoredIndex {
  format: 1;
  repo: string;
  files: Record<string, IndexedFile>;
  search: unknown;
}

interface SearchDocument {
  id: string;
  path: string;
  symbols: string;
  content: string;
}

/** Identifier-aware tokens: `getUserName` → getusername, get, user, name; `a_b.c` → a_b, a, b, c. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const word of text.split(/[^A-Za-z0-9_$]+/)) {
    if (word === "") continue;
    out.push(word);
    const parts = word
      .split(/_+|\$/)
      .flatMap((p) => p.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
      .filter((p) => p !== "");
    if (parts.length > 1) out.push(...parts);
  }
  return out;
}

const searchOptions: MiniSearchOptions<SearchDocument> = {
  fields: ["path", "symbols", "content"],
  storeFields: [],
  tokenize,
  processTerm: (term) => (term.length > 1 || /[0-9]/.test(term) ? term.toLowerCase() : null),
  searchOptions: {
    boost: { path: 2, symbols: 3 },
    prefix: true,
    // One typo allowed in words of five or more characters; larger distances cost much and rank noise.
    fuzzy: (term) => (term.length >= 5 ? 1 : false),
    // Queries arrive pre-split by `queryOf`; strings inside it are single words.
    tokenize: (text) => text.split(/[^A-Za-z0-9_$]+/).filter((w) => w !== ""),
  },
};

/**
 * The query for free text: any of its words may match (OR, ranked by BM25); a compound word such as
 * `loginUser` matches either as a whole or by all of its parts (`login` AND `user`), so a file with
 * only `user` in it does not count as a hit for `loginUser`.
 */
function queryOf(text: string): Query {
  const words = text.split(/[^A-Za-z0-9_$]+/).filter((w) => w !== "");
  return {
    combineWith: "OR",
    queries: words.map((word) => {
      const parts = tokenize(word).slice(1);
      return parts.length > 1
        ? { combineWith: "OR", queries: [word, { combineWith: "AND", queries: parts }] }
        : word;
    }),
  };
}

/** Whether a line or a name contains a query word whole, or all the parts of a compound one. */
function matcherOf(query: string): (text: string) => boolean {
  const words = query
    .split(/[^A-Za-z0-9_$]+/)
    .filter((w) => w !== "")
    .map((word) => ({
      whole: word.toLowerCase(),
      parts: tokenize(word)
        .slice(1)
        .map((p) => p.toLowerCase()),
    }));
  // Cheap pre-check: a text that does not contain a word (or its first part) as a substring cannot match.
  const needles = words.map(({ whole, parts }) => (parts.length > 1 ? parts[0]! : whole));
  return (text) => {
    const lower = text.toLowerCase();
    if (!needles.some((n) => lower.includes(n))) return false;
    const tokens = new Set(tokenize(text).map((t) => t.toLowerCase()));
    return words.some(
      ({ whole, parts }) => tokens.has(whole) || (parts.length > 1 && parts.every((p) => tokens.has(p))),
    );
  };
}

function newSearch(): MiniSearch<SearchDocument> {
  return new MiniSearch<SearchDocument>(searchOptions);
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

function countLines(text: string): number {
  if (text === "") return 0;
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n - 1 : n;
}

/**
 * The index of one repository: files with their hashes, symbols and references, and a ranked
 * full-text index (MiniSearch, BM25) over paths, symbol names and content. `update` re-reads the
 * workspace and parses only new or changed files; `save`/`load` keep it in a KeyValue store.
 */
export class CodeIndex {
  private constructor(
    readonly repo: string,
    private files: Map<string, IndexedFile>,
    private readonly search: MiniSearch<SearchDocument>,
  ) {}

  static empty(repo: string): CodeIndex {
    return new CodeIndex(repo, new Map(), newSearch());
  }

  static storageKey(repo: string): string {
    return `coding/index/${repo}`;
  }

  static async load(
    kv: KeyValue,
    repo: string,
    options?: ChunkedStoreOptions,
  ): Promise<CodeIndex | undefined> {
    const stored = await new ChunkedJsonStore(kv, options).load<StoredIndex>(CodeIndex.storageKey(repo));
    if (!stored) return undefined;
    if (stored.format !== 1 || stored.repo !== repo)
      throw new Error(`stored index of ${repo} has an unknown format; delete it and index again`);
    const search = MiniSearch.loadJSON<SearchDocument>(JSON.stringify(stored.search), searchOptions);
    return new CodeIndex(repo, new Map(Object.entries(stored.files)), search);
  }

  async save(kv: KeyValue, options?: ChunkedStoreOptions): Promise<{ chunks: number; chars: number }> {
    const stored: StoredIndex = {
      format: 1,
      repo: this.repo,
      files: Object.fromEntries(this.files),
      search: this.search.toJSON(),
    };
    return new ChunkedJsonStore(kv, options).save(CodeIndex.storageKey(this.repo), stored);
  }

  static async delete(kv: KeyValue, repo: string): Promise<boolean> {
    return new ChunkedJsonStore(kv).delete(CodeIndex.storageKey(repo));
  }

  /** Re-index the workspace: parse new and changed files, drop removed ones. */
  async update(workspace: Workspace, options: IndexOptions = {}): Promise<IndexStats> {
    if (workspace.id !== this.repo)
      throw new Error(`index of ${this.repo} cannot index workspace ${workspace.id}`);
    const languages = options.languages ?? defaultLanguages();
    const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_BYTES;
    const stats: IndexStats = {
      files: 0,
      indexed: 0,
      unchanged: 0,
      removed: 0,
      skippedBinary: 0,
      skippedTooLarge: 0,
      lines: 0,
      bytes: 0,
    };
    const next = new Map<string, IndexedFile>();
    let seen = 0;
    for await (const { relative, absolute, size } of walk(workspace.dir)) {
      seen++;
      // Reported after every file looked at (skipped and unchanged ones too), so progress moves on re-index.
      try {
        if (size > maxBytes) {
          stats.skippedTooLarge++;
          continue;
        }
        const bytes = await readFile(absolute);
        if (isBinary(bytes)) {
          stats.skippedBinary++;
          continue;
        }
        const hash = createHash("sha256").update(bytes).digest("hex");
        const previous = this.files.get(relative);
        stats.files++;
        if (previous && previous.hash === hash) {
          next.set(relative, previous);
          stats.unchanged++;
          continue;
        }
        const text = bytes.toString("utf8");
        const language = languages.forPath(relative);
        const extraction = language ? await extract(language, text) : { symbols: [], references: [] };
        const entry: IndexedFile = {
          hash,
          bytes: bytes.length,
          lines: countLines(text),
          ...(language ? { language: language.id } : {}),
          symbols: extraction.symbols,
          references: extraction.references,
        };
        next.set(relative, entry);
        const document: SearchDocument = {
          id: relative,
          path: relative,
          symbols: entry.symbols.map((s) => s.name).join(" "),
          content: text,
        };
        if (this.search.has(relative)) this.search.replace(document);
        else this.search.add(document);
        stats.indexed++;
        stats.lines += entry.lines;
        stats.bytes += entry.bytes;
      } finally {
        options.onProgress?.({ seen, indexed: stats.indexed, path: relative });
      }
    }
    // Removed files, and files that became binary or too large, leave the search index.
    for (const file of this.files.keys()) {
      if (next.has(file)) continue;
      if (this.search.has(file)) this.search.discard(file);
      stats.removed++;
    }
    this.files = next;
    return stats;
  }

  get size(): number {
    return this.files.size;
  }

  file(relative: string): IndexedFile | undefined {
    return this.files.get(relative);
  }

  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Ranked paths and BM25 scores only (no file reads): what `searchText` starts from. */
  rank(query: string, limit = 20): Array<{ path: string; score: number }> {
    return this.search
      .search(queryOf(query))
      .slice(0, limit)
      .map((r) => ({ path: r.id as string, score: r.score }));
  }

  /** Ranked files for a free-text query (paths and symbol names weigh more than content). */
  async searchText(workspace: Workspace, query: string, limit = 20): Promise<SearchHit[]> {
    const matches = matcherOf(query);
    const results = this.search.search(queryOf(query)).slice(0, limit);
    const hits: SearchHit[] = [];
    for (const result of results) {
      const file = this.files.get(result.id as string);
      if (!file) continue;
      const symbols = file.symbols
        .filter((s) => matches(s.name))
        .slice(0, 5)
        .map((s) => ({ name: s.name, kind: s.kind, line: s.range.startLine }));
      const lines: SearchHit["lines"] = [];
      const text = await workspace.readText(result.id as string).catch(() => "");
      const all = text.split("\n");
      for (let i = 0; i < all.length && lines.length < 3; i++) {
        const line = all[i]!;
        if (matches(line))
          lines.push({ line: i + 1, text: line.length > 200 ? `${line.slice(0, 200)}…` : line });
      }
      hits.push({ path: result.id as string, score: Number(result.score.toFixed(4)), symbols, lines });
    }
    return hits;
  }

  /** Symbols by file, name (exact or prefix, case-insensitive) and kind. */
  symbols(filter: { path?: string; name?: string; kind?: SymbolKind; limit?: number } = {}): SymbolHit[] {
    const out: SymbolHit[] = [];
    const name = filter.name?.toLowerCase();
    const limit = filter.limit ?? 200;
    const files = filter.path !== undefined ? [filter.path] : this.paths();
    for (const file of files) {
      const entry = this.files.get(file);
      if (!entry) continue;
      for (const symbol of entry.symbols) {
        if (filter.kind && symbol.kind !== filter.kind) continue;
        if (name && !symbol.name.toLowerCase().startsWith(name)) continue;
        out.push({ path: file, ...symbol });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** Where a name is defined and where it is used, by name (no type resolution). */
  references(name: string, limit = 200): { definitions: SymbolHit[]; references: ReferenceHit[] } {
    const definitions: SymbolHit[] = [];
    const references: ReferenceHit[] = [];
    for (const file of this.paths()) {
      const entry = this.files.get(file)!;
      for (const symbol of entry.symbols)
        if (symbol.name === name) definitions.push({ path: file, ...symbol });
      for (const reference of entry.references) {
        if (reference.name !== name) continue;
        if (references.length < limit) references.push({ path: file, ...reference });
      }
    }
    return { definitions, references };
  }
}

interface WalkedFile {
  relative: string;
  absolute: string;
  size: number;
}

/**
 * Regular files under `root`, in sorted order, honouring `.gitignore` files at every level (a pattern
 * applies relative to the directory of its file). `.git` is skipped; symbolic links are never followed.
 */
async function* walk(root: string): AsyncGenerator<WalkedFile> {
  type Rules = { base: string; rules: Ignore };
  const ignored = (relative: string, isDir: boolean, stack: readonly Rules[]) =>
    stack.some(({ base, rules }) => {
      const sub = base === "" ? relative : relative.slice(base.length + 1);
      return rules.ignores(isDir ? `${sub}/` : sub);
    });

  async function* visit(relativeDir: string, stack: Rules[]): AsyncGenerator<WalkedFile> {
    const absoluteDir = relativeDir === "" ? root : path.join(root, relativeDir);
    const entries = await readdir(absoluteDir, { withFileTypes: true });
    let rules = stack;
    const gitignore = entries.find((e) => e.name === ".gitignore" && e.isFile());
    if (gitignore) {
      const text = await readFile(path.join(absoluteDir, ".gitignore"), "utf8");
      rules = [...stack, { base: relativeDir, rules: ignore().add(text) }];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === ".git") continue;
      const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!ignored(relative, true, rules)) yield* visit(relative, rules);
      } else if (entry.isFile()) {
        if (ignored(relative, false, rules)) continue;
        const absolute = path.join(absoluteDir, entry.name);
        const info = await lstat(absolute);
        yield { relative, absolute, size: info.size };
      }
    }
  }
  yield* visit("", []);
}

export type { CodeRange };
