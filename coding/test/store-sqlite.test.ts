import { rm } from "node:fs/promises";
import path from "node:path";
import { openSqlite, SqliteKeyValue } from "@aat/adapter-sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodeIndex } from "../src/indexer.js";
import { Workspaces } from "../src/workspace.js";
import { fixtureRepository, writeTree } from "./helpers/repo.js";

let base: string;

beforeAll(async () => {
  base = await writeTree({});
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("the index on a durable KeyValue adapter (SQLite)", () => {
  it("survives closing and reopening the database and continues incrementally", async () => {
    const repoDir = await writeTree(fixtureRepository);
    const workspaces = new Workspaces({ root: path.dirname(repoDir) });
    const workspace = await workspaces.add("fixture", { kind: "local", path: path.basename(repoDir) });
    const file = path.join(base, "kv.sqlite");
    const db = openSqlite(file);
    const index = CodeIndex.empty("fixture");
    await index.update(workspace, { maxFileBytes: 2_000 });
    const saved = await index.save(new SqliteKeyValue(db), { chunkChars: 1_000 });
    expect(saved.chunks).toBeGreaterThan(1);
    db.close();

    const reopened = openSqlite(file);
    const loaded = await CodeIndex.load(new SqliteKeyValue(reopened), "fixture", { chunkChars: 1_000 });
    expect(loaded?.paths()).toEqual(index.paths());
    expect((await loaded!.searchText(workspace, "SessionStore"))[0]?.path).toBe("src/auth/session.ts");
    expect(await loaded!.update(workspace, { maxFileBytes: 2_000 })).toMatchObject({
      indexed: 0,
      unchanged: 9,
    });
    reopened.close();
    await rm(repoDir, { recursive: true, force: true });
  });
});
