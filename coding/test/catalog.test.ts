import { execFileSync } from "node:child_process";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepositoryCatalog } from "../src/catalog.js";
import { CodingService } from "../src/service.js";
import { hostAllowed, Workspaces } from "../src/workspace.js";
import { fixtureRepository, writeTree } from "./helpers/repo.js";

let base: string;
let root: string;
let upstream: string;

beforeAll(async () => {
  base = await writeTree({});
  root = path.join(base, "root");
  const local = await writeTree(fixtureRepository);
  execFileSync("mkdir", ["-p", root]);
  execFileSync("cp", ["-a", local, path.join(root, "local")]);
  await rm(local, { recursive: true });
  upstream = path.join(base, "upstream");
  execFileSync("cp", ["-a", path.join(root, "local"), upstream]);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: upstream });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "initial");
});
afterAll(() => rm(base, { recursive: true, force: true }));

function catalogOn(kv: MemoryKeyValue, options: { hosts?: string[] } = {}) {
  let catalog: RepositoryCatalog | undefined;
  const workspaces = new Workspaces({
    root,
    allowedUrlSchemes: ["https", "file"],
    ...(options.hosts ? { allowedHosts: options.hosts } : {}),
  });
  const service = new CodingService({ workspaces, kv, open: async (id) => catalog?.open(id) });
  catalog = new RepositoryCatalog({ service, kv });
  return { catalog, service };
}

describe("RepositoryCatalog", () => {
  it("a repository added in one process is opened by another (restart, worker) from the store", async () => {
    const kv = new MemoryKeyValue();
    const first = catalogOn(kv);
    const { job } = await first.catalog.add({ id: "local", source: { kind: "local", path: "local" } });
    expect(job.status).toBe("running");
    const done = await first.catalog.settled("local");
    expect(done).toMatchObject({ status: "succeeded", stats: { indexed: expect.any(Number) } });
    const view = await first.catalog.get("local");
    expect(view).toMatchObject({ id: "local", index: { status: "ready" } });
    // Not a git work tree of its own (the temp folder may sit inside another one): no head.
    expect(view?.head).toBeUndefined();

    // A worker that never saw the add opens it on first use.
    const worker = catalogOn(kv);
    const index = await worker.service.index("local");
    expect(index.symbols({ name: "loginUser" })).toEqual([
      expect.objectContaining({ path: "src/auth/login.ts" }),
    ]);
    // A restart opens every stored repository.
    const restarted = catalogOn(kv);
    expect(await restarted.catalog.restore()).toEqual([]);
    expect(restarted.service.workspaces.list().map((w) => w.id)).toEqual(["local"]);
    expect(await restarted.catalog.job("local")).toMatchObject({ status: "succeeded" });
  });

  it("a read during the first index waits for it instead of building a second one", async () => {
    const kv = new MemoryKeyValue();
    const { catalog, service } = catalogOn(kv);
    let saves = 0;
    const set = kv.compareAndSet.bind(kv);
    kv.compareAndSet = ((key: string, ...rest: unknown[]) => {
      if (key.endsWith("/head")) saves++;
      return (set as (...a: unknown[]) => ReturnType<typeof set>)(key, ...rest);
    }) as typeof kv.compareAndSet;
    await catalog.add({ id: "busy", source: { kind: "local", path: "local" } });
    const index = await service.index("busy");
    expect(index.symbols({ name: "loginUser" })).toHaveLength(1);
    expect(await catalog.settled("busy")).toMatchObject({ status: "succeeded" });
    expect(saves).toBe(1);
  });

  it("a job left running by a process that died is reported as interrupted, and a re-index starts afresh", async () => {
    const kv = new MemoryKeyValue();
    const first = catalogOn(kv);
    await first.catalog.add({ id: "local", source: { kind: "local", path: "local" } });
    const finished = await first.catalog.settled("local");
    // What a process killed mid-index leaves: its job still "running", last written two minutes ago.
    const stale = Date.now() - 120_000;
    await kv.set("coding/jobs/local", { ...finished, status: "running", startedAt: stale, updatedAt: stale });
    const other = catalogOn(kv);
    expect(await other.catalog.get("local")).toMatchObject({
      index: { status: "failed", error: expect.stringMatching(/^interrupted: .*re-index it$/) },
    });
    const again = await other.catalog.reindex("local");
    expect(again.id).not.toBe(finished?.id);
    expect(await other.catalog.settled("local")).toMatchObject({ status: "succeeded" });
    expect((await other.catalog.get("local"))?.index.status).toBe("ready");
  });

  it("deleting a clone removes its directory; deleting a local source leaves it", async () => {
    const kv = new MemoryKeyValue();
    const { catalog } = catalogOn(kv);
    await catalog.add({ id: "clone", source: { kind: "git", url: `file://${upstream}` } });
    await catalog.settled("clone");
    expect((await catalog.get("clone"))?.head).toMatch(/^[0-9a-f]{40}$/);
    await catalog.add({ id: "mine", source: { kind: "local", path: "local" } });
    await catalog.settled("mine");
    expect(await catalog.remove("clone")).toBe(true);
    await expect(stat(path.join(root, "clone"))).rejects.toThrow(/ENOENT/);
    expect(await catalog.remove("mine")).toBe(true);
    expect((await stat(path.join(root, "local"))).isDirectory()).toBe(true);
    expect(await catalog.remove("mine")).toBe(false);
    expect(await catalog.list()).toEqual([]);
  });

  it("refuses a duplicate id and git hosts not allowed", async () => {
    const kv = new MemoryKeyValue();
    const { catalog } = catalogOn(kv, { hosts: ["github.com", "*.example.com"] });
    await catalog.add({ id: "dup", source: { kind: "local", path: "local" } });
    await catalog.settled("dup");
    await expect(catalog.add({ id: "dup", source: { kind: "local", path: "local" } })).rejects.toMatchObject({
      code: "conflict",
    });
    await expect(
      catalog.add({ id: "evil", source: { kind: "git", url: "https://evil.test/x.git" } }),
    ).rejects.toMatchObject({
      code: "url_not_allowed",
      message: expect.stringContaining('git host "evil.test"'),
    });
    await expect(
      catalog.add({ id: "evil", source: { kind: "git", url: "git@evil.test:x/y.git" } }),
    ).rejects.toMatchObject({ code: "url_not_allowed" });
  });

  it("matches hosts exactly, by subdomain wildcard, or any with *", () => {
    expect(hostAllowed("github.com", ["github.com"])).toBe(true);
    expect(hostAllowed("gist.github.com", ["github.com"])).toBe(false);
    expect(hostAllowed("git.example.com", ["*.example.com"])).toBe(true);
    expect(hostAllowed("example.com", ["*.example.com"])).toBe(false);
    expect(hostAllowed("badexample.com", ["*.example.com"])).toBe(false);
    expect(hostAllowed("anything.test", ["*"])).toBe(true);
  });
});
