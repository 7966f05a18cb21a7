import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryPlanRepository, formatPlanError, type PlanDirectoryChange } from "../../src/index.js";
import { allNodeTypes } from "./support.js";

function plan(id: string, version: number, title: string): string {
  return `id: ${id}\nversion: ${version}\nworkflow: automation\ntitle: ${title}\nsteps:\n  - id: a\n    type: set\n    values: { v: ${version} }\n`;
}

let root: string;
const repos: DirectoryPlanRepository[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "aat-plans-"));
});
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.close()));
  await rm(root, { recursive: true, force: true });
});

function open(): DirectoryPlanRepository {
  const repo = new DirectoryPlanRepository(root, { nodeTypes: allNodeTypes, settleMs: 20 });
  repos.push(repo);
  return repo;
}

/** Resolves with the next change the repository reports for `file`. */
function nextChange(repo: DirectoryPlanRepository, file: string): Promise<PlanDirectoryChange> {
  return new Promise((resolve) => {
    const stop = repo.onChange((change) => {
      if (change.file !== file) return;
      stop();
      resolve(change);
    });
  });
}

describe("DirectoryPlanRepository: loading", () => {
  it("reads .yaml and .yml files in nested folders, several versions of one plan", async () => {
    await mkdir(join(root, "automation", "old"), { recursive: true });
    await writeFile(join(root, "automation", "hello.yaml"), plan("demo.hello", 2, "Hello two"));
    await writeFile(join(root, "automation", "old", "hello-v1.yml"), plan("demo.hello", 1, "Hello one"));
    await writeFile(join(root, "other.yaml"), plan("demo.other", 1, "Other"));
    await writeFile(join(root, "notes.txt"), "not a plan");
    const repo = open();

    expect(await repo.list()).toEqual([
      { id: "demo.hello", version: 2, workflow: "automation", title: "Hello two", origin: "directory" },
      { id: "demo.other", version: 1, workflow: "automation", title: "Other", origin: "directory" },
    ]);
    expect((await repo.get("demo.hello"))?.definition.title).toBe("Hello two");
    const v1 = await repo.get("demo.hello", 1);
    expect(v1).toMatchObject({
      version: 1,
      origin: "directory",
      file: join(root, "automation", "old", "hello-v1.yml"),
    });
    expect(v1?.source).toBe(plan("demo.hello", 1, "Hello one"));
    expect((await repo.versions("demo.hello")).map((v) => [v.version, v.file])).toEqual([
      [1, join(root, "automation", "old", "hello-v1.yml")],
      [2, join(root, "automation", "hello.yaml")],
    ]);
    expect(repo.problems()).toEqual([]);
  });

  it("keeps the first file for an id+version and reports the second", async () => {
    await writeFile(join(root, "a.yaml"), plan("demo.clash", 1, "From a"));
    await writeFile(join(root, "b.yaml"), plan("demo.clash", 1, "From b"));
    const repo = open();
    expect((await repo.get("demo.clash"))?.definition.title).toBe("From a");
    expect(repo.problems().map(formatPlanError)).toEqual([
      `${join(root, "b.yaml")}:2:10 version: plan "demo.clash" version 1 is already defined in a.yaml; give this file another version (version defaults to 1) or another id. This file is ignored until then`,
    ]);
  });

  it("reports files that do not load, with their positions, and serves the rest", async () => {
    await writeFile(join(root, "good.yaml"), plan("demo.good", 1, "Good"));
    await writeFile(join(root, "bad.yaml"), plan("demo.bad", 1, "Bad").replace("type: set", "type: sett"));
    const repo = open();
    expect((await repo.list()).map((p) => p.id)).toEqual(["demo.good"]);
    expect(repo.problems().map(formatPlanError)).toEqual([
      `${join(root, "bad.yaml")}:7:11 steps[0].type: unknown step type "sett" (did you mean "set"?); expected one of tool, agent, branch, parallel, map, approval, wait, set, plan`,
    ]);
  });

  it("says so when the folder does not exist", async () => {
    const repo = new DirectoryPlanRepository(join(root, "missing"));
    await expect(repo.list()).rejects.toThrow(
      `plan directory "${join(root, "missing")}" does not exist or is not a folder`,
    );
  });
});

describe("DirectoryPlanRepository: watching", () => {
  it("reloads a changed file, keeps the last good version through a bad edit, and drops deleted files", async () => {
    const file = join(root, "hello.yaml");
    await writeFile(file, plan("demo.watch", 1, "Original"));
    const repo = open();
    await repo.watch();
    expect((await repo.get("demo.watch"))?.definition.title).toBe("Original");

    let change = nextChange(repo, file);
    await writeFile(file, plan("demo.watch", 1, "Edited"));
    expect(await change).toEqual({ file, kind: "change", ok: true });
    expect((await repo.get("demo.watch"))?.definition.title).toBe("Edited");

    change = nextChange(repo, file);
    await writeFile(file, plan("demo.watch", 1, "Broken").replace("values:", "valuez:"));
    expect(await change).toEqual({ file, kind: "change", ok: false });
    expect((await repo.get("demo.watch"))?.definition.title).toBe("Edited");
    expect(repo.problems().map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual([
      '6:5 steps[0]: missing required key "values"; add `values:` here',
      '8:5 steps[0].valuez: unknown key "valuez" (did you mean "values"?)',
    ]);

    change = nextChange(repo, file);
    await writeFile(file, plan("demo.watch", 1, "Fixed"));
    expect(await change).toEqual({ file, kind: "change", ok: true });
    expect((await repo.get("demo.watch"))?.definition.title).toBe("Fixed");
    expect(repo.problems()).toEqual([]);

    const added = join(root, "nested", "second.yaml");
    change = nextChange(repo, added);
    await mkdir(join(root, "nested"));
    await writeFile(added, plan("demo.second", 1, "Second"));
    expect(await change).toEqual({ file: added, kind: "add", ok: true });
    expect((await repo.list()).map((p) => p.id)).toEqual(["demo.second", "demo.watch"]);

    change = nextChange(repo, file);
    await unlink(file);
    expect(await change).toEqual({ file, kind: "unlink", ok: true });
    expect(await repo.get("demo.watch")).toBeUndefined();
    expect((await repo.list()).map((p) => p.id)).toEqual(["demo.second"]);
  });
});
