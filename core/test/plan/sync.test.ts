import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import {
  DirectoryPlanRepository,
  KvPlanRepository,
  type PlanSyncLogger,
  startPlanDirectorySync,
  syncPlanDirectory,
} from "@aat/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "aat-sync-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function plan(id: string, title: string, version = 1): string {
  return `id: ${id}
version: ${version}
workflow: automation
title: ${title}
steps:
  - id: s
    type: set
    values: { title: ${JSON.stringify(title)} }
`;
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const logger: PlanSyncLogger = {
    info: (_fields, message) => lines.push({ level: "info", message }),
    warn: (_fields, message) => lines.push({ level: "warn", message }),
    error: (_fields, message) => lines.push({ level: "error", message }),
  };
  return { lines, logger };
}

describe("syncPlanDirectory", () => {
  it("publishes new and changed files as new versions and nothing for unchanged content", async () => {
    await writeFile(join(root, "a.yaml"), plan("demo.a", "First"));
    await mkdir(join(root, "nested"));
    await writeFile(join(root, "nested", "b.yml"), plan("demo.b", "Bee"));
    const store = new KvPlanRepository(new MemoryKeyValue());

    const first = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(first.published.map((p) => [p.id, p.version])).toEqual([
      ["demo.a", 1],
      ["demo.b", 1],
    ]);
    expect(first.problems).toEqual([]);

    // A restart reads the same files: nothing is published.
    const again = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(again.published).toEqual([]);
    expect(again.unchanged.sort()).toEqual(["demo.a", "demo.b"]);

    await writeFile(join(root, "a.yaml"), plan("demo.a", "Second"));
    const edited = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(edited.published.map((p) => [p.id, p.version])).toEqual([["demo.a", 2]]);
    expect((await store.get("demo.a"))?.definition.title).toBe("Second");
    expect((await store.versions("demo.a")).map((v) => v.publishedBy)).toEqual([
      "directory:a.yaml",
      "directory:a.yaml",
    ]);

    // Reverting the file is a change too: the old content becomes the newest version.
    await writeFile(join(root, "a.yaml"), plan("demo.a", "First"));
    const reverted = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(reverted.published.map((p) => [p.id, p.version])).toEqual([["demo.a", 3]]);
  });

  it("keeps a version published through the API current until the file itself changes", async () => {
    await writeFile(join(root, "a.yaml"), plan("demo.a", "From the file"));
    const store = new KvPlanRepository(new MemoryKeyValue());
    await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    await store.publish(plan("demo.a", "From the API"), { publishedBy: "key:ops" });

    const restart = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(restart.published).toEqual([]);
    expect((await store.get("demo.a"))?.definition.title).toBe("From the API");

    await writeFile(join(root, "a.yaml"), plan("demo.a", "Edited file"));
    const edited = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(edited.published.map((p) => p.version)).toEqual([3]);
    expect((await store.get("demo.a"))?.definition.title).toBe("Edited file");
  });

  it("publishes only the directory's current version of a plan kept in several files", async () => {
    await writeFile(join(root, "a-v1.yaml"), plan("demo.a", "Old", 1));
    await writeFile(join(root, "a-v2.yaml"), plan("demo.a", "New", 2));
    const store = new KvPlanRepository(new MemoryKeyValue());
    const result = await syncPlanDirectory(new DirectoryPlanRepository(root), store);
    expect(result.published).toEqual([{ id: "demo.a", version: 1, file: join(root, "a-v2.yaml") }]);
    expect((await store.get("demo.a"))?.definition.title).toBe("New");
  });

  it("reports files that fail to load with file:line:col, publishes the rest, and logs each problem once", async () => {
    await writeFile(join(root, "good.yaml"), plan("demo.good", "Good"));
    await writeFile(join(root, "bad.yaml"), plan("demo.bad", "Bad").replace("type: set", "type: sett"));
    const store = new KvPlanRepository(new MemoryKeyValue());
    const { lines, logger } = recordingLogger();
    const reported = new Set<string>();

    const result = await syncPlanDirectory(new DirectoryPlanRepository(root), store, { logger, reported });
    expect(result.published.map((p) => p.id)).toEqual(["demo.good"]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(new RegExp(`^${join(root, "bad.yaml")}:7:11 steps\\[0\\]\\.type: `));
    expect(await store.get("demo.bad")).toBeUndefined();
    expect(lines.filter((l) => l.level === "error").map((l) => l.message)).toEqual([
      `plan not loaded: ${result.problems[0]}`,
    ]);

    await syncPlanDirectory(new DirectoryPlanRepository(root), store, { logger, reported });
    expect(lines.filter((l) => l.level === "error")).toHaveLength(1);
  });

  it("reports a missing directory instead of throwing", async () => {
    const store = new KvPlanRepository(new MemoryKeyValue());
    const missing = join(root, "nope");
    const result = await syncPlanDirectory(new DirectoryPlanRepository(missing), store);
    expect(result.problems).toEqual([
      `${missing}: plan directory "${missing}" does not exist or is not a folder`,
    ]);
  });

  it("lets the first of several directories own a plan id", async () => {
    const other = await mkdtemp(join(tmpdir(), "aat-sync-other-"));
    try {
      await writeFile(join(root, "a.yaml"), plan("demo.a", "First dir"));
      await writeFile(join(other, "a.yaml"), plan("demo.a", "Second dir"));
      const store = new KvPlanRepository(new MemoryKeyValue());
      const dirs = [new DirectoryPlanRepository(root), new DirectoryPlanRepository(other)];
      const result = await syncPlanDirectory(dirs, store);
      expect((await store.get("demo.a"))?.definition.title).toBe("First dir");
      expect(result.problems).toEqual([
        `${other}: plan "demo.a" is also defined in ${root}, which is synced first; this copy is ignored. Keep each plan in one directory`,
      ]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe("startPlanDirectorySync", () => {
  it("publishes a new version when a watched file changes", async () => {
    const file = join(root, "a.yaml");
    await writeFile(file, plan("demo.a", "Before"));
    const store = new KvPlanRepository(new MemoryKeyValue());
    const dir = new DirectoryPlanRepository(root, { settleMs: 20 });
    const sync = await startPlanDirectorySync([dir], store, { watch: true });
    try {
      expect(sync.initial.published.map((p) => p.version)).toEqual([1]);
      await writeFile(file, plan("demo.a", "After"));
      // Bounded wait for the watcher to notice the edit and the sync to publish it.
      for (let i = 0; i < 200 && (await store.get("demo.a"))?.version !== 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        await sync.idle();
      }
      expect((await store.get("demo.a"))?.definition.title).toBe("After");
    } finally {
      await sync.close();
    }
  });
});
