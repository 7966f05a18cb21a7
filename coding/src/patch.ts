import { lstat } from "node:fs/promises";
import path from "node:path";
import { applyPatch, createTwoFilesPatch, FILE_HEADERS_ONLY, parsePatch, type StructuredPatch } from "diff";
import { CodingInputError, PathConfinementError } from "./errors.js";
import { normaliseRelativePath, type Workspace } from "./workspace.js";

export type FileChangeStatus = "added" | "modified" | "deleted";

export interface FileChange {
  path: string;
  status: FileChangeStatus;
  additions: number;
  deletions: number;
  /** Content after the patch (empty for a deleted file). */
  after: string;
}

export interface ValidatedPatch {
  diff: string;
  files: FileChange[];
}

/** Reads a file's current content, undefined when it does not exist. */
export type ReadFile = (path: string) => Promise<string | undefined>;

const DEV_NULL = "/dev/null";

/** The workspace's working tree as a `ReadFile`. */
export function workingTree(workspace: Workspace): ReadFile {
  return async (file) => {
    try {
      return await workspace.readText(file);
    } catch (error) {
      if ((error as { code?: string }).code === "not_found") return undefined;
      throw error;
    }
  };
}

function checkTarget(raw: string, where: string): string {
  const file = normaliseRelativePath(raw, where);
  if (file === "") throw new PathConfinementError(`${where} names the repository root, not a file`);
  if (file.split("/").some((segment) => segment.toLowerCase() === ".git"))
    throw new PathConfinementError(`${where} "${raw}" is inside .git; patches may only change tracked files`);
  return file;
}

/** `a/src/x.ts` and `b/src/x.ts` (git's prefixes) → `src/x.ts`; `/dev/null` stays. */
function namesOf(patch: StructuredPatch, index: number): { oldName?: string; newName?: string } {
  const oldRaw = patch.oldFileName?.trim();
  const newRaw = patch.newFileName?.trim();
  if (!oldRaw || !newRaw)
    throw new CodingInputError(
      `file ${index + 1} of the patch has no "--- a/path" and "+++ b/path" header lines`,
    );
  const gitStyle =
    (oldRaw === DEV_NULL || oldRaw.startsWith("a/")) && (newRaw === DEV_NULL || newRaw.startsWith("b/"));
  const strip = (name: string) => (name === DEV_NULL ? undefined : gitStyle ? name.slice(2) : name);
  const oldName = strip(oldRaw);
  const newName = strip(newRaw);
  return { ...(oldName !== undefined ? { oldName } : {}), ...(newName !== undefined ? { newName } : {}) };
}

/**
 * Parses a unified diff and applies it in memory to the files `read` returns: every path is checked
 * against the workspace (no `..`, absolute paths, `.git`, or symlinks out), every hunk must apply
 * exactly (no fuzz), creations must not exist yet, deletions must remove the whole file. Nothing is written.
 */
export async function validatePatch(
  workspace: Workspace,
  diffText: string,
  read: ReadFile,
): Promise<ValidatedPatch> {
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(diffText);
  } catch (error) {
    throw new CodingInputError(
      `the patch is not a unified diff: ${(error as Error).message}`,
      "patch_invalid",
    );
  }
  patches = patches.filter((p) => p.hunks.length > 0 || p.oldFileName || p.newFileName);
  if (patches.length === 0 || patches.every((p) => p.hunks.length === 0))
    throw new CodingInputError(
      'the patch changes nothing: give a unified diff with "--- a/path", "+++ b/path" and @@ hunks',
      "patch_invalid",
    );
  const files: FileChange[] = [];
  const seen = new Set<string>();
  for (const [index, patch] of patches.entries()) {
    const { oldName, newName } = namesOf(patch, index);
    if (oldName === undefined && newName === undefined)
      throw new CodingInputError(
        `file ${index + 1} of the patch goes from /dev/null to /dev/null`,
        "patch_invalid",
      );
    const oldPath = oldName === undefined ? undefined : checkTarget(oldName, `patch file ${index + 1} (---)`);
    const newPath = newName === undefined ? undefined : checkTarget(newName, `patch file ${index + 1} (+++)`);
    if (oldPath !== undefined && newPath !== undefined && oldPath !== newPath)
      throw new CodingInputError(
        `patch file ${index + 1} renames ${oldPath} to ${newPath}; renames are not supported, delete and add instead`,
        "patch_invalid",
      );
    const file = (newPath ?? oldPath)!;
    if (seen.has(file))
      throw new CodingInputError(
        `the patch changes ${file} twice; merge its hunks into one file section`,
        "patch_invalid",
      );
    seen.add(file);
    // Confinement on disk: the file and every directory on its way must stay inside the workspace.
    await workspace.resolve(file, `patch file ${file}`);
    // A symbolic link itself is never patched: its "content" is its target, and a patch could point it out.
    const own = await lstat(path.join(workspace.dir, file)).catch(() => undefined);
    if (own?.isSymbolicLink())
      throw new PathConfinementError(`patch file ${file} is a symbolic link; patches do not change links`);
    const before = await read(file);
    const status: FileChangeStatus =
      oldPath === undefined ? "added" : newPath === undefined ? "deleted" : "modified";
    if (status === "added" && before !== undefined)
      throw new CodingInputError(`the patch creates ${file}, which already exists`, "patch_conflict");
    if (status !== "added" && before === undefined)
      throw new CodingInputError(`the patch changes ${file}, which does not exist`, "patch_conflict");
    const after = applyPatch(before ?? "", patch, { fuzzFactor: 0 });
    if (after === false)
      throw new CodingInputError(
        `the patch does not apply cleanly to ${file}: a hunk's context or removed lines differ from the file (read it again and rebuild the diff)`,
        "patch_conflict",
      );
    if (status === "deleted" && after !== "")
      throw new CodingInputError(`the patch deletes ${file} but leaves content in it`, "patch_invalid");
    let additions = 0;
    let deletions = 0;
    for (const hunk of patch.hunks)
      for (const line of hunk.lines) {
        if (line.startsWith("+")) additions++;
        else if (line.startsWith("-")) deletions++;
      }
    files.push({ path: file, status, additions, deletions, after });
  }
  return { diff: diffText, files };
}

export interface FileEdit {
  path: string;
  /** The whole new content; null deletes the file. */
  content: string | null;
}

/** A unified diff (git-style a/ b/ names) turning the current files into `edits`. */
export async function diffOfEdits(
  workspace: Workspace,
  edits: readonly FileEdit[],
  read: ReadFile,
): Promise<string> {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const edit of edits) {
    const file = checkTarget(edit.path, "edit path");
    if (seen.has(file)) throw new CodingInputError(`two edits name ${file}; give each file once`);
    seen.add(file);
    await workspace.resolve(file, `edit path ${file}`);
    const before = await read(file);
    if (before === undefined && edit.content === null)
      throw new CodingInputError(`cannot delete ${file}: it does not exist`, "patch_conflict");
    if (before === edit.content) continue;
    const oldName = before === undefined ? DEV_NULL : `a/${file}`;
    const newName = edit.content === null ? DEV_NULL : `b/${file}`;
    const patch = createTwoFilesPatch(
      oldName,
      newName,
      before ?? "",
      edit.content ?? "",
      undefined,
      undefined,
      {
        headerOptions: FILE_HEADERS_ONLY,
      },
    );
    parts.push(patch);
  }
  if (parts.length === 0)
    throw new CodingInputError("the edits change nothing: every file already has that content");
  return parts.join("");
}
