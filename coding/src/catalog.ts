import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { CodingIndexJob, KeyValue } from "@aat/core";
import { CodingInputError } from "./errors.js";
import { git } from "./git-run.js";
import type { CodingService } from "./service.js";
import type { RepositorySource } from "./workspace.js";

/** A repository as the deployment knows it; stored in the KeyValue store so every process can open it. */
export interface RepositoryRecord {
  id: string;
  name: string;
  source: RepositorySource;
  /** The workspace's real path on disk (inside the workspaces root). */
  dir: string;
  /** The server cloned it (git source): deleting the repository removes the directory. */
  cloned: boolean;
  createdAt: number;
}

/** The API's CodingIndexJob, plus the heartbeat of the process running it. */
export type IndexJob = CodingIndexJob & {
  /** Last time the process running it wrote it: a running job that stops being written is reported as
   * interrupted. */
  updatedAt?: number;
};

export interface RepositoryView {
  id: string;
  name: string;
  source: RepositorySource;
  createdAt: number;
  head?: string;
  index: {
    status: "none" | "indexing" | "ready" | "failed";
    indexedAt?: number;
    files?: number;
    error?: string;
  };
}

const RECORD = (id: string) => `coding/repos/${id}`;
/** A running job writes itself at least this often while it runs... */
const JOB_HEARTBEAT_MS = 10_000;
/** ...so one stored as running but not written for this long lost its process (a crash, a kill). */
const JOB_STALE_MS = 60_000;
const JOB = (id: string) => `coding/jobs/${id}`;

export interface RepositoryCatalogOptions {
  service: CodingService;
  kv: KeyValue;
  now?: () => number;
  /** How often a running job's progress is written to the store (default every 200 files). */
  progressEvery?: number;
  onError?: (repo: string, message: string) => void;
}

/**
 * The repositories of a deployment: their records in the KeyValue store (so a restart, or a worker
 * process, opens the same ones) and their index jobs, run in the background by the process that
 * starts them. A job's progress is written to the store as it goes, so any API replica can report it.
 */
export class RepositoryCatalog {
  private readonly running = new Map<string, { job: IndexJob; done: Promise<IndexJob> }>();
  private readonly now: () => number;

  constructor(private readonly options: RepositoryCatalogOptions) {
    this.now = options.now ?? Date.now;
  }

  private get service(): CodingService {
    return this.options.service;
  }

  /** Opens every stored repository (at start); returns those that could not be opened, with why. */
  async restore(): Promise<Array<{ id: string; error: string }>> {
    const failed: Array<{ id: string; error: string }> = [];
    for (const record of await this.records()) {
      try {
        await this.openRecord(record);
      } catch (error) {
        failed.push({ id: record.id, error: (error as Error).message });
      }
    }
    return failed;
  }

  /** Opens a repository another process added (CodingService's `open` hook). */
  async open(id: string): Promise<void> {
    const stored = await this.options.kv.get<RepositoryRecord>(RECORD(id));
    if (!stored) return;
    await this.openRecord(stored.value);
  }

  private async openRecord(record: RepositoryRecord): Promise<void> {
    if (this.service.workspaces.list().some((w) => w.id === record.id)) return;
    await this.service.workspaces.add(record.id, { kind: "local", path: record.dir });
  }

  private async records(): Promise<RepositoryRecord[]> {
    const out: RepositoryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.options.kv.list<RepositoryRecord>("coding/repos/", {
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      out.push(...page.entries.map((e) => e.value));
      cursor = page.cursor;
    } while (cursor);
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async add(input: { id: string; name?: string; source: RepositorySource }): Promise<{
    repository: RepositoryView;
    job: IndexJob;
  }> {
    const { kv } = this.options;
    if (await kv.get(RECORD(input.id)))
      throw new CodingInputError(`repository ${input.id} already exists; choose another id`, "conflict");
    const workspace = await this.service.workspaces.add(input.id, input.source);
    const record: RepositoryRecord = {
      id: input.id,
      name: input.name ?? input.id,
      source: input.source,
      dir: workspace.dir,
      cloned: input.source.kind === "git",
      createdAt: this.now(),
    };
    const written = await kv.setIfAbsent(RECORD(input.id), record);
    if (!written.ok) {
      this.service.workspaces.remove(input.id);
      throw new CodingInputError(`repository ${input.id} already exists; choose another id`, "conflict");
    }
    await kv.delete(JOB(input.id));
    const job = await this.reindex(input.id);
    return { repository: await this.view(record), job };
  }

  async list(): Promise<RepositoryView[]> {
    return Promise.all((await this.records()).map((r) => this.view(r)));
  }

  async get(id: string): Promise<RepositoryView | undefined> {
    const stored = await this.options.kv.get<RepositoryRecord>(RECORD(id));
    return stored ? this.view(stored.value) : undefined;
  }

  private async view(record: RepositoryRecord): Promise<RepositoryView> {
    const job = await this.job(record.id);
    const head = await this.headOf(record.dir);
    const last = job?.status === "succeeded" ? job : undefined;
    return {
      id: record.id,
      name: record.name,
      source: record.source,
      createdAt: record.createdAt,
      ...(head ? { head } : {}),
      index: {
        status: !job
          ? "none"
          : job.status === "running"
            ? "indexing"
            : job.status === "failed"
              ? "failed"
              : "ready",
        ...(last?.finishedAt !== undefined ? { indexedAt: last.finishedAt } : {}),
        ...(last?.stats ? { files: last.stats.files } : {}),
        ...(job?.error ? { error: job.error } : {}),
      },
    };
  }

  /** HEAD's commit when the directory is itself the root of a git work tree (not a folder inside one). */
  private async headOf(dir: string): Promise<string | undefined> {
    const top = await git(dir, ["rev-parse", "--show-toplevel"]).catch(() => undefined);
    if (top?.code !== 0 || path.resolve(top.stdout.trim()) !== dir) return undefined;
    const head = await git(dir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).catch(() => undefined);
    return head?.code === 0 && head.stdout.trim() ? head.stdout.trim() : undefined;
  }

  async remove(id: string): Promise<boolean> {
    const { kv } = this.options;
    const stored = await kv.get<RepositoryRecord>(RECORD(id));
    if (!stored) return false;
    await this.running.get(id)?.done.catch(() => undefined);
    await kv.delete(RECORD(id));
    await kv.delete(JOB(id));
    this.service.workspaces.remove(id);
    await this.service.forget(id);
    if (stored.value.cloned) {
      // Only a clone the server made, and only inside the root: a local source is the user's directory.
      const root = await this.service.workspaces.root();
      const rel = path.relative(root, stored.value.dir);
      if (rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel))
        await rm(stored.value.dir, { recursive: true, force: true });
    }
    return true;
  }

  /**
   * The running job of this process, else the last one stored. A stored job still marked running whose
   * process stopped writing it (it died mid-index) is reported as failed, so the repository does not
   * show "indexing" forever and a re-index starts afresh.
   */
  async job(id: string): Promise<IndexJob | undefined> {
    const running = this.running.get(id);
    if (running) return { ...running.job, progress: { ...running.job.progress } };
    const stored = (await this.options.kv.get<IndexJob>(JOB(id)))?.value;
    if (stored?.status === "running" && this.now() - (stored.updatedAt ?? stored.startedAt) > JOB_STALE_MS) {
      return {
        ...stored,
        status: "failed",
        error: "interrupted: the process indexing this repository stopped before it finished; re-index it",
      };
    }
    return stored;
  }

  /** Starts a re-index in the background (or returns the one running); only changed files are parsed. */
  async reindex(id: string): Promise<IndexJob> {
    const { kv } = this.options;
    const running = this.running.get(id);
    if (running) return { ...running.job, progress: { ...running.job.progress } };
    if (!(await kv.get(RECORD(id))))
      throw new CodingInputError(`unknown repository "${id}"; add it first`, "not_found");
    await this.service.workspace(id);
    const job: IndexJob = {
      id: randomUUID(),
      repo: id,
      status: "running",
      startedAt: this.now(),
      updatedAt: this.now(),
      progress: { seen: 0, indexed: 0 },
    };
    await kv.set(JOB(id), job);
    const every = this.options.progressEvery ?? 200;
    let writes = Promise.resolve();
    const save = () => {
      job.updatedAt = this.now();
      writes = writes.then(() => kv.set(JOB(id), job).then(() => undefined));
    };
    const heartbeat = setInterval(save, JOB_HEARTBEAT_MS);
    heartbeat.unref?.();
    const done = (async () => {
      try {
        const stats = await this.service.reindex(id, (p) => {
          job.progress = { seen: p.seen, indexed: p.indexed, path: p.path };
          if (p.seen % every === 0) save();
        });
        job.status = "succeeded";
        job.stats = stats;
        delete job.progress.path;
      } catch (error) {
        job.status = "failed";
        job.error = (error as Error).message;
        this.options.onError?.(id, job.error);
      }
      clearInterval(heartbeat);
      job.finishedAt = this.now();
      job.updatedAt = job.finishedAt;
      await writes.catch(() => undefined);
      // The repository may have been deleted meanwhile: then its job record must not come back.
      if (await kv.get(RECORD(id))) await kv.set(JOB(id), job);
      this.running.delete(id);
      return job;
    })();
    this.running.set(id, { job, done });
    return { ...job, progress: { ...job.progress } };
  }

  /** Resolves when the repository's running job (if any) has finished. */
  async settled(id: string): Promise<IndexJob | undefined> {
    const running = this.running.get(id);
    return running ? running.done : this.job(id);
  }

  /** Waits for every running job (shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }
}
