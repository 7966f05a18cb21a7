import { relative } from "node:path";
import type { DirectoryPlanRepository } from "./directory-repository.js";
import type { KvPlanRepository } from "./kv-repository.js";
import { formatPlanError } from "./load-errors.js";
import { planContentHash } from "./yaml-version.js";

/** Structured logging as pino does it: fields first, then the message. */
export interface PlanSyncLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface PlanSyncOptions {
  logger?: PlanSyncLogger;
  /**
   * Problems already reported by an earlier sync (formatted); only new ones are logged, and the set
   * is updated. Lets a watcher re-sync on every change without repeating the same errors.
   */
  reported?: Set<string>;
}

export interface PlanSyncResult {
  /** Plans whose file content changed and were published as a new version. */
  published: Array<{ id: string; version: number; file: string }>;
  /** Plans whose file content is what was last published from the directory: nothing written. */
  unchanged: string[];
  /** Files that failed to load or publish, as `file:line:col path: message`. */
  problems: string[];
}

/** `publishedBy` of versions published from a plan directory: `directory:<file relative to its root>`. */
export const DIRECTORY_PUBLISHER = "directory:";

/**
 * Publishes the plans of plan directories into the KV plan store, the single source of truth runs are
 * started from (`PUT /v1/plans/:id` publishes there too). For every plan, the directory's current
 * version (its highest `version`) is compared with the latest version that was published *from a
 * directory*: when the content differs, it is published as a new version; when it is the same, nothing
 * is written. So a file edit becomes a new version, a restart publishes nothing, and a version
 * published through the API stays current until the file itself changes.
 *
 * Files that fail to load are reported (file:line:col) and skipped; their plan keeps its last good
 * version. Deleting a file changes nothing in the store: published versions are never removed, as runs
 * may be pinned to them. When several directories define one plan id, the first directory wins.
 * Never throws for bad plan files.
 */
export async function syncPlanDirectory(
  directories: DirectoryPlanRepository | readonly DirectoryPlanRepository[],
  store: KvPlanRepository,
  options: PlanSyncOptions = {},
): Promise<PlanSyncResult> {
  const { logger } = options;
  const result: PlanSyncResult = { published: [], unchanged: [], problems: [] };
  const claimedBy = new Map<string, string>();
  for (const dir of Array.isArray(directories) ? directories : [directories]) {
    let summaries: Awaited<ReturnType<DirectoryPlanRepository["list"]>>;
    try {
      summaries = await dir.list();
    } catch (error) {
      result.problems.push(`${dir.root}: ${errorMessage(error)}`);
      continue;
    }
    result.problems.push(...dir.problems().map(formatPlanError));
    for (const summary of summaries) {
      const owner = claimedBy.get(summary.id);
      if (owner !== undefined) {
        result.problems.push(
          `${dir.root}: plan "${summary.id}" is also defined in ${owner}, which is synced first; this copy is ignored. Keep each plan in one directory`,
        );
        continue;
      }
      claimedBy.set(summary.id, dir.root);
      const plan = await dir.get(summary.id);
      if (!plan) continue;
      const file = plan.file ?? dir.root;
      const name = relative(dir.root, file) || file;
      try {
        const hash = planContentHash(plan.source);
        const versions = await store.versions(summary.id);
        const lastFromDirectory = versions
          .filter((v) => v.publishedBy?.startsWith(DIRECTORY_PUBLISHER))
          .at(-1);
        if (lastFromDirectory?.hash === hash) {
          result.unchanged.push(summary.id);
          continue;
        }
        const published = await store.publish(plan.source, {
          publishedBy: `${DIRECTORY_PUBLISHER}${name}`,
          file,
        });
        if (published.unchanged) {
          result.unchanged.push(summary.id);
          continue;
        }
        result.published.push({ id: published.id, version: published.version, file });
        logger?.info(
          { planId: published.id, version: published.version, file },
          `published plan ${published.id} version ${published.version} from ${name}`,
        );
      } catch (error) {
        result.problems.push(`${file}: plan "${summary.id}" could not be published: ${errorMessage(error)}`);
      }
    }
  }
  const reported = options.reported;
  const fresh = reported ? result.problems.filter((problem) => !reported.has(problem)) : result.problems;
  for (const problem of fresh) {
    logger?.error({ problem }, `plan not loaded: ${problem}`);
  }
  if (reported) {
    reported.clear();
    for (const problem of result.problems) reported.add(problem);
  }
  return result;
}

export interface PlanDirectoryWatch {
  /** Resolves when the sync triggered by the latest change has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Syncs now, then again after every change in any of the directories (when `watch` is true), one sync
 * at a time. Errors are logged, never thrown, so a bad edit cannot stop the runtime.
 */
export async function startPlanDirectorySync(
  directories: readonly DirectoryPlanRepository[],
  store: KvPlanRepository,
  options: { logger?: PlanSyncLogger; watch: boolean },
): Promise<PlanDirectoryWatch & { initial: PlanSyncResult }> {
  const reported = new Set<string>();
  const syncOptions = { reported, ...(options.logger ? { logger: options.logger } : {}) };
  const initial = await syncPlanDirectory(directories, store, syncOptions);
  let chain: Promise<unknown> = Promise.resolve();
  const unsubscribe: Array<() => void> = [];
  if (options.watch) {
    for (const dir of directories) {
      try {
        await dir.watch();
      } catch (error) {
        options.logger?.error(
          { directory: dir.root, error: errorMessage(error) },
          `cannot watch ${dir.root}; plan edits there need a restart`,
        );
        continue;
      }
      unsubscribe.push(
        dir.onChange(() => {
          chain = chain
            .then(() => syncPlanDirectory(directories, store, syncOptions))
            .catch((error: unknown) =>
              options.logger?.error({ error: errorMessage(error) }, "syncing the plan directories failed"),
            );
        }),
      );
    }
  }
  return {
    initial,
    idle: async () => {
      await chain;
    },
    close: async () => {
      for (const stop of unsubscribe) stop();
      await Promise.all(directories.map((dir) => dir.close()));
      await chain;
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
