import { rm, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodeIndex, tokenize } from "../src/indexer.js";
import { ChunkedJsonStore } from "../src/store.js";
import { Workspaces } from "../src/workspace.js";
import { fixtureRepository, writeTree } from "./helpers/repo.js";

let base: string;
let workspaces: Workspaces;

beforeAll(async () => {
  base = await writeTree({});
  const repoDir = await writeTree(fixtureRepository);
  await rm(base, { recursive: true });
  workspaces = new Workspaces({ root: path.dirname(repoDir) });
  base = repoDir;
  await workspaces.add("fixture", { kind: "local", path: path.basename(repoDir) });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const options = { maxFileBytes: 2_000 };

describe("indexing a repository", () => {
  it("honours .gitignore at every level, skips binaries and oversized files", async () => {
    const index = CodeIndex.empty("fixture");
    const stats = await index.update(workspaces.get("fixture"), options);
    expect(index.paths()).toEqual([
      ".gitignore",
      "docs/guide.md",
      "pkg/.gitignore",
      "pkg/keep.ts",
      "scripts/report.py",
      "src/auth/login.ts",
      "src/auth/logout.ts",
      "src/auth/session.ts",
      "src/util/strings.ts",
    ]);
    expect(stats).toMatchObject({
      files: 9,
      indexed: 9,
      unchanged: 0,
      removed: 0,
      skippedBinary: 1,
      skippedTooLarge: 1,
    });
    expect(index.file("scripts/report.py")).toMatchObject({ language: "python", lines: 2 });
    expect(index.file("docs/guide.md")?.language).toBeUndefined();
  });

  it("ranks a symbol's defining file first, then files mentioning it", async () => {
    const index = CodeIndex.empty("fixture");
    const ws = workspaces.get("fixture");
    await index.update(ws, options);
    const hits = await index.searchText(ws, "loginUser");
    expect(hits.map((h) => h.path)).toEqual(["src/auth/login.ts", "docs/guide.md", "src/auth/logout.ts"]);
    expect(hits[0]).toMatchObject({
      symbols: [{ name: "loginUser", kind: "function", line: 4 }],
      lines: [{ line: 4, text: "export async function loginUser(name: string, password: string) {" }],
    });
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);

    const session = await index.searchText(ws, "session store");
    expect(session[0]?.path).toBe("src/auth/session.ts");
    expect(session.map((h) => h.path)).toContain("src/auth/login.ts");

    const byPath = await index.searchText(ws, "strings");
    expect(byPath[0]?.path).toBe("src/util/strings.ts");

    expect(await index.searchText(ws, "build_report")).toMatchObject([{ path: "scripts/report.py" }]);
  });

  it("re-indexes only changed files, by content hash, and forgets removed ones", async () => {
    const ws = workspaces.get("fixture");
    const index = CodeIndex.empty("fixture");
    await index.update(ws, options);
    expect(await index.update(ws, options)).toMatchObject({ indexed: 0, unchanged: 9, removed: 0 });

    await writeFile(
      path.join(ws.dir, "src/util/strings.ts"),
      "export function padRight(s: string) {\n  return s;\n}\n",
    );
    await writeFile(path.join(ws.dir, "src/util/extra.ts"), "export const extraThing = 2;\n");
    await unlink(path.join(ws.dir, "src/auth/logout.ts"));
    const seen: Array<{ seen: number; indexed: number; path: string }> = [];
    const stats = await index.update(ws, { ...options, onProgress: (p) => seen.push(p) });
    expect(stats).toMatchObject({ files: 9, indexed: 2, unchanged: 7, removed: 1 });
    // Progress after every file walked (skipped and unchanged too); `indexed` grows at the parsed ones.
    expect(seen.map((p) => p.seen)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.filter((p, i) => p.indexed > (seen[i - 1]?.indexed ?? 0)).map((p) => p.path)).toEqual([
      "src/util/extra.ts",
      "src/util/strings.ts",
    ]);
    expect(index.symbols({ path: "src/util/strings.ts" }).map((s) => s.name)).toEqual(["padRight"]);
    expect((await index.searchText(ws, "padLeft")).map((h) => h.path)).toEqual([]);
    expect((await index.searchText(ws, "logoutUser")).map((h) => h.path)).toEqual([]);
    expect((await index.searchText(ws, "extraThing")).map((h) => h.path)).toEqual(["src/util/extra.ts"]);
  });

  it("finds symbols and references by name", async () => {
    const ws = workspaces.get("fixture");
    const index = CodeIndex.empty("fixture");
    await index.update(ws, options);
    expect(index.symbols({ name: "session", kind: "class" })).toMatchObject([
      {
        path: "src/auth/session.ts",
        name: "SessionStore",
        kind: "class",
        range: { startLine: 1, endLine: 5 },
      },
    ]);
    const refs = index.references("SessionStore");
    expect(refs.definitions.map((d) => `${d.path}:${d.range.startLine}`)).toEqual(["src/auth/session.ts:1"]);
    expect(refs.references.map((r) => `${r.path}:${r.line}:${r.column}`)).toEqual([
      "src/auth/login.ts:1:9",
      "src/auth/login.ts:5:20",
    ]);
  });
});

describe("persistence through the KeyValue port", () => {
  it("saves in chunks and loads an index that answers the same", async () => {
    const kv = new MemoryKeyValue();
    const ws = workspaces.get("fixture");
    const index = CodeIndex.empty("fixture");
    await index.update(ws, options);
    const saved = await index.save(kv, { chunkChars: 500 });
    expect(saved.chunks).toBeGreaterThan(1);
    const loaded = await CodeIndex.load(kv, "fixture", { chunkChars: 500 });
    expect(loaded?.paths()).toEqual(index.paths());
    expect(await loaded!.searchText(ws, "loginUser")).toEqual(await index.searchText(ws, "loginUser"));
    // The loaded index continues incrementally.
    expect(await loaded!.update(ws, options)).toMatchObject({ indexed: 0 });
    // Saving again replaces the chunks of the previous generation.
    await loaded!.save(kv, { chunkChars: 500 });
    const keys = (await kv.list("coding/index/fixture/")).entries.map((e) => e.key);
    expect(keys.filter((k) => k.includes("/g1/"))).toEqual([]);
    expect(keys.filter((k) => k.includes("/g2/"))).toHaveLength(saved.chunks);
    expect(await CodeIndex.delete(kv, "fixture")).toBe(true);
    expect((await kv.list("coding/index/fixture/")).entries).toEqual([]);
    expect(await CodeIndex.load(kv, "fixture")).toBeUndefined();
  });

  it("a concurrent save loses cleanly; a missing chunk is reported, not parsed", async () => {
    const kv = new MemoryKeyValue();
    const store = new ChunkedJsonStore(kv, { chunkChars: 4 });
    await store.save("k", { a: "12345678" });
    const racing = new ChunkedJsonStore(kv, { chunkChars: 4 });
    const original = kv.compareAndSet.bind(kv);
    kv.compareAndSet = async (key, value, expected, opts) => {
      await original(key, { generation: 9, chunks: 0, chars: 0, savedAt: 0 }, expected, opts).catch(
        () => undefined,
      );
      return original(key, value, expected, opts);
    };
    await expect(racing.save("k", { a: "x" })).rejects.toThrow(/saved by another writer meanwhile/);
    kv.compareAndSet = original;
    await kv.delete("k/head");
    await store.save("k", { a: "12345678" });
    await kv.delete("k/g1/000001");
    await expect(store.load("k")).rejects.toThrow(/chunk 2 of \d+ \(generation 1\) is missing/);
  });
});

describe("tokenize", () => {
  it("splits identifiers into their words and keeps the whole", () => {
    expect(tokenize("getUserName(HTTPServer, snake_case.x)")).toEqual([
      "getUserName",
      "get",
      "User",
      "Name",
      "HTTPServer",
      "HTTP",
      "Server",
      "snake_case",
      "snake",
      "case",
      "x",
    ]);
  });
});
