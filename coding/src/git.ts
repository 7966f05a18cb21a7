import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CodingInputError } from "./errors.js";
import { git } from "./git-run.js";
import { type FileChangeStatus, type ReadFile, validatePatch } from "./patch.js";
import type { Workspace } from "./workspace.js";

export { git };

async function gitOk(
  cwd: string,
  args: readonly string[],
  options?: Parameters<typeof git>[2],
): Promise<string> {
  const result = await git(cwd, args, options);
  if (result.code !== 0)
    throw new Error(
      `git ${args[0]} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  return result.stdout;
}

/** The file at HEAD, as a `ReadFile` (undefined when HEAD has no such file). */
export function headTree(workspace: Workspace): ReadFile {
  return async (file) => {
    const result = await git(workspace.dir, ["cat-file", "blob", `HEAD:${file}`]);
    return result.code === 0 ? result.stdout : undefined;
  };
}

export interface ApplyOptions {
  diff: string;
  /** Branch to create; default `aat/patch-<8 hex>`. Must not exist yet. */
  branch?: string;
  message?: string;
  author?: { name: string; email: string };
}

export interface ApplyResult {
  branch: string;
  base: string;
  commit: string;
  files: Array<{ path: string; status: FileChangeStatus; additions: number; deletions: number }>;
  /** `git diff --stat` of the new commit against its base. */
  stat: string;
}

/**
 * Commits a validated patch on a new branch from HEAD, without touching the working tree or the
 * checked-out branch: blobs are written with `hash-object`, a private index is built from HEAD and
 * updated, and `commit-tree` + `branch` make the commit. The patch must apply to HEAD's files exactly.
 */
export async function applyPatchOnBranch(workspace: Workspace, options: ApplyOptions): Promise<ApplyResult> {
  const dir = workspace.dir;
  const top = await git(dir, ["rev-parse", "--show-toplevel"]);
  if (top.code !== 0 || path.resolve(top.stdout.trim()) !== dir)
    throw new CodingInputError(
      `repository ${workspace.id} is not the root of a git repository; code.apply_patch needs one (git init, commit)`,
      "not_a_git_repository",
    );
  const base = (await git(dir, ["rev-parse", "--verify", "HEAD^{commit}"])).stdout.trim();
  if (!base)
    throw new CodingInputError(
      `repository ${workspace.id} has no commit yet; commit once before applying patches`,
    );
  const validated = await validatePatch(workspace, options.diff, headTree(workspace));
  const branch = options.branch ?? `aat/patch-${randomUUID().slice(0, 8)}`;
  if ((await git(dir, ["check-ref-format", "--branch", branch])).code !== 0)
    throw new CodingInputError(`"${branch}" is not a valid branch name`);
  if ((await git(dir, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`])).code === 0)
    throw new CodingInputError(`branch ${branch} already exists; choose another name`, "conflict");

  const index = path.join(tmpdir(), `aat-index-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await gitOk(dir, ["read-tree", "HEAD"], { env });
    for (const file of validated.files) {
      if (file.status === "deleted") {
        await gitOk(dir, ["update-index", "--force-remove", "--", file.path], { env });
        continue;
      }
      const blob = (await gitOk(dir, ["hash-object", "-w", "--stdin"], { input: file.after })).trim();
      const listed = (await gitOk(dir, ["ls-tree", "HEAD", "--", file.path])).trim();
      const mode = listed.split(" ")[0] || "100644";
      if (mode !== "100644" && mode !== "100755")
        throw new CodingInputError(
          `${file.path} is ${mode === "120000" ? "a symbolic link" : mode === "160000" ? "a submodule" : `mode ${mode}`} at HEAD; patches only change regular files`,
          "patch_invalid",
        );
      await gitOk(dir, ["update-index", "--add", "--cacheinfo", `${mode},${blob},${file.path}`], { env });
    }
    const tree = (await gitOk(dir, ["write-tree"], { env })).trim();
    const author = options.author ?? { name: "aat", email: "aat@localhost" };
    const message = options.message ?? `aat: apply patch to ${validated.files.map((f) => f.path).join(", ")}`;
    const commit = (
      await gitOk(dir, ["commit-tree", tree, "-p", base, "-F", "-"], {
        input: message,
        env: {
          GIT_AUTHOR_NAME: author.name,
          GIT_AUTHOR_EMAIL: author.email,
          GIT_COMMITTER_NAME: author.name,
          GIT_COMMITTER_EMAIL: author.email,
        },
      })
    ).trim();
    // Creates the ref only if it does not exist (empty old value), so a concurrent creator is not overwritten.
    await gitOk(dir, ["update-ref", `refs/heads/${branch}`, commit, ""]);
    const stat = await gitOk(dir, ["diff", "--stat", base, commit]);
    return {
      branch,
      base,
      commit,
      files: validated.files.map(({ path: file, status, additions, deletions }) => ({
        path: file,
        status,
        additions,
        deletions,
      })),
      stat: stat.trimEnd(),
    };
  } finally {
    await rm(index, { force: true });
    await rm(`${index}.lock`, { force: true });
  }
}
