import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { FSWatcher } from "chokidar";
import type { CheckOptions } from "./checks.js";
import { loadPlanFile, locateInYaml, type PlanLoadError } from "./loader.js";
import {
  type PlanRepository,
  type PlanSummary,
  type PlanVersionInfo,
  type StoredPlan,
  summarisePlan,
} from "./repository.js";

export interface DirectoryPlanRepositoryOptions extends CheckOptions {
  /** How long a changed file must stay the same before it is read (avoids half-written files). */
  settleMs?: number;
}

export interface PlanDirectoryChange {
  file: string;
  kind: "add" | "change" | "unlink";
  /** False when the file failed to load (its last good version, if any, stays in use). */
  ok: boolean;
}

interface FileState {
  /** Order in which files were first seen: on an id+version clash the earlier file keeps it. */
  seen: number;
  good?: StoredPlan;
  errors: PlanLoadError[];
}

const PLAN_FILE = /\.ya?ml$/i;

/**
 * Plans read from `**\/*.yaml|*.yml` under a folder. Several files may hold different versions of one
 * plan. A file that fails to load never replaces the last good version read from it; its errors are
 * in `problems()` until it is fixed.
 *
 * Here the files are the truth: editing a file in place changes that version (handy while authoring),
 * and deleting it removes it. A plan that runs may be using gets a new version instead (a new file or
 * a higher `version`); versions published to the KV never change.
 */
export class DirectoryPlanRepository implements PlanRepository {
  private readonly files = new Map<string, FileState>();
  private readonly listeners = new Set<(change: PlanDirectoryChange) => void>();
  private plans = new Map<string, Map<number, StoredPlan>>();
  private conflicts: PlanLoadError[] = [];
  private counter = 0;
  private loading?: Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  private watcher?: FSWatcher;
  private watchError?: string;

  constructor(
    readonly root: string,
    private readonly options: DirectoryPlanRepositoryOptions = {},
  ) {}

  /** Read every plan file now (again). Called on first use; call it to rescan without a watcher. */
  load(): Promise<void> {
    this.loading = this.serialise(async () => {
      const info = await stat(this.root).catch(() => undefined);
      if (!info?.isDirectory()) {
        throw new Error(`plan directory "${this.root}" does not exist or is not a folder`);
      }
      const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
      const found = entries
        .filter((e) => e.isFile() && PLAN_FILE.test(e.name))
        .map((e) => join(e.parentPath, e.name))
        .sort();
      for (const file of [...this.files.keys()]) if (!found.includes(file)) this.files.delete(file);
      for (const file of found) await this.readFile(file);
      this.rebuild();
    });
    return this.loading;
  }

  async list(): Promise<PlanSummary[]> {
    await this.ready();
    return [...this.plans.keys()].sort().map((id) => summarisePlan(this.current(id)!));
  }

  async get(id: string, version?: number): Promise<StoredPlan | undefined> {
    await this.ready();
    return version === undefined ? this.current(id) : this.plans.get(id)?.get(version);
  }

  async versions(id: string): Promise<PlanVersionInfo[]> {
    await this.ready();
    return [...(this.plans.get(id)?.values() ?? [])]
      .sort((a, b) => a.version - b.version)
      .map((plan) => ({
        id,
        version: plan.version,
        origin: "directory" as const,
        hash: sha256(plan.source),
        ...(plan.file !== undefined ? { file: plan.file } : {}),
      }));
  }

  /** Current load errors of all files (files that failed, and id+version clashes). */
  problems(): PlanLoadError[] {
    const fileErrors = [...this.files.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([, state]) => state.errors);
    const watching = this.watchError
      ? [{ file: this.root, line: 0, column: 0, path: "", message: this.watchError }]
      : [];
    return [...fileErrors, ...this.conflicts, ...watching];
  }

  onChange(listener: (change: PlanDirectoryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reload files as they are added, changed or removed. Resolves once the watcher is ready. */
  async watch(): Promise<void> {
    await this.ready();
    if (this.watcher) return;
    const settle = this.options.settleMs ?? 50;
    // Loaded only when watching (the serverless runtimes read plan directories once, without it).
    const { watch } = await import("chokidar");
    if (this.watcher) return;
    const watcher = watch(this.root, {
      ignoreInitial: true,
      awaitWriteFinish:
        settle > 0 ? { stabilityThreshold: settle, pollInterval: Math.min(settle, 20) } : false,
    });
    this.watcher = watcher;
    const onEvent = (kind: PlanDirectoryChange["kind"]) => (file: string) => {
      if (!PLAN_FILE.test(file)) return;
      void this.serialise(async () => {
        if (kind === "unlink") this.files.delete(file);
        else await this.readFile(file);
        this.rebuild();
        const ok = kind === "unlink" || (this.files.get(file)?.errors.length ?? 0) === 0;
        for (const listener of this.listeners) listener({ file, kind, ok });
      });
    };
    watcher.on("add", onEvent("add"));
    watcher.on("change", onEvent("change"));
    watcher.on("unlink", onEvent("unlink"));
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      watcher.once("ready", () => {
        ready = true;
        resolve();
      });
      // Errors after start-up (a folder became unreadable, too many watches) are reported like load
      // errors rather than thrown from an event emitter, which would crash the process.
      watcher.on("error", (error) => {
        if (!ready) reject(error);
        else
          this.watchError = `watching the plan folder failed: ${(error as Error).message}; plans are no longer reloaded`;
      });
    });
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
    await this.queue;
  }

  private ready(): Promise<void> {
    return this.loading ?? this.load();
  }

  private current(id: string): StoredPlan | undefined {
    const versions = this.plans.get(id);
    if (!versions) return undefined;
    return versions.get(Math.max(...versions.keys()));
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readFile(file: string): Promise<void> {
    let state = this.files.get(file);
    if (!state) {
      state = { seen: this.counter++, errors: [] };
      this.files.set(file, state);
    }
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.files.delete(file);
        return;
      }
      state.errors = [
        { file, line: 0, column: 0, path: "", message: `cannot read the file: ${(error as Error).message}` },
      ];
      return;
    }
    const result = loadPlanFile(text, { ...this.options, file });
    if (result.ok) {
      state.good = {
        definition: result.definition,
        version: result.definition.version,
        source: text,
        origin: "directory",
        file,
      };
      state.errors = [];
    } else {
      state.errors = result.errors;
    }
  }

  private rebuild(): void {
    const plans = new Map<string, Map<number, StoredPlan>>();
    const conflicts: PlanLoadError[] = [];
    const ordered = [...this.files.entries()].sort(([, a], [, b]) => a.seen - b.seen);
    for (const [file, { good }] of ordered) {
      if (!good) continue;
      const { id } = good.definition;
      const versions = plans.get(id) ?? new Map<number, StoredPlan>();
      plans.set(id, versions);
      const holder = versions.get(good.version);
      if (holder) {
        conflicts.push({
          file,
          ...locateInYaml(good.source, ["version"]),
          path: "version",
          message: `plan "${id}" version ${good.version} is already defined in ${relative(this.root, holder.file ?? "") || holder.file}; give this file another version (version defaults to 1) or another id. This file is ignored until then`,
        });
        continue;
      }
      versions.set(good.version, good);
    }
    this.plans = plans;
    this.conflicts = conflicts;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
