import { lstat, mkdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { CodingInputError, PathConfinementError } from "./errors.js";
import { git } from "./git-run.js";

/** Repository ids name a workspace in tool calls and storage keys: letters, digits, `.`, `_`, `-`. */
export const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Checks a repository-relative path written by a caller (a model, a patch, an API client) before it
 * touches the disk. Refused: empty, absolute (POSIX or Windows), NUL bytes, backslashes, any `..` segment.
 * Returns the normalised POSIX form (`./a//b` → `a/b`; `.` or `` → `` meaning the root).
 */
export function normaliseRelativePath(input: string, where = "path"): string {
  if (input.includes("\0"))
    throw new PathConfinementError(`${where} "${printable(input)}" contains a NUL byte`);
  if (input.includes("\\"))
    throw new PathConfinementError(
      `${where} "${input}" contains a backslash; use forward slashes (src/app.ts)`,
    );
  if (input.startsWith("/") || /^[A-Za-z]:/.test(input))
    throw new PathConfinementError(
      `${where} "${input}" is absolute; give a path relative to the repository root (src/app.ts)`,
    );
  const segments = input.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes(".."))
    throw new PathConfinementError(
      `${where} "${input}" contains "..": paths must stay inside the repository; give it relative to the root`,
    );
  return segments.join("/");
}

function printable(s: string): string {
  return s.replace(/\0/g, "\\0");
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** One repository checked out (or pointed at) on disk; every path it hands out is confined to `dir`. */
export class Workspace {
  private constructor(
    readonly id: string,
    /** The real path (symlinks resolved) of the repository root. */
    readonly dir: string,
  ) {}

  static async open(id: string, dir: string): Promise<Workspace> {
    if (!REPO_ID.test(id))
      throw new CodingInputError(
        `repository id "${id}" is invalid: use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      throw new CodingInputError(`repository ${id}: directory ${dir} does not exist`, "not_found");
    }
    if (!(await stat(real)).isDirectory())
      throw new CodingInputError(`repository ${id}: ${dir} is not a directory`, "not_found");
    return new Workspace(id, real);
  }

  /**
   * The absolute path of `relative`, after checking it cannot leave the workspace: the textual checks of
   * `normaliseRelativePath`, then the real path of the file (or, for a file that does not exist yet, of
   * its nearest existing ancestor) must lie inside the root, so a symlink pointing out is refused.
   */
  async resolve(relative: string, where = "path"): Promise<string> {
    const rel = normaliseRelativePath(relative, where);
    const joined = path.join(this.dir, rel);
    let probe = joined;
    let rest = "";
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!isInside(this.dir, real))
          throw new PathConfinementError(
            `${where} "${relative}" resolves through a symbolic link to ${real}, outside repository ${this.id}; links pointing out of the repository are not followed`,
          );
        return rest === "" ? real : path.join(real, rest);
      } catch (error) {
        if (error instanceof PathConfinementError) throw error;
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        // A dangling symlink is refused too: whatever it points at could be created outside later.
        const link = await lstat(probe).catch(() => undefined);
        if (link?.isSymbolicLink())
          throw new PathConfinementError(
            `${where} "${relative}" goes through a symbolic link whose target does not exist; refusing to follow it`,
          );
        if (probe === this.dir) throw error;
        rest = rest === "" ? path.basename(probe) : path.join(path.basename(probe), rest);
        probe = path.dirname(probe);
      }
    }
  }

  /** The repository-relative POSIX path of an absolute path inside the workspace. */
  relative(absolute: string): string {
    return path.relative(this.dir, absolute).split(path.sep).join("/");
  }

  async readText(relative: string): Promise<string> {
    const file = await this.resolve(relative);
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        throw new CodingInputError(`repository ${this.id} has no file ${relative}`, "not_found");
      if ((error as NodeJS.ErrnoException).code === "EISDIR")
        throw new CodingInputError(`${relative} in repository ${this.id} is a directory, not a file`);
      throw error;
    }
  }

  async writeText(relative: string, content: string): Promise<void> {
    const file = await this.resolve(relative);
    await mkdir(path.dirname(file), { recursive: true });
    // Re-check after creating directories: nothing on the way may have become a link out.
    await this.resolve(relative);
    await writeFile(file, content, "utf8");
  }
}

export interface WorkspacesOptions {
  /** Every repository lives under this directory; sources outside it are refused. */
  root: string;
  /**
   * URL schemes git sources may use (default https, ssh, git; `user@host:path` counts as ssh). Add
   * `file` only where callers may clone any repository on this machine's disk (tests, single user).
   */
  allowedUrlSchemes?: readonly string[];
  /**
   * Hosts git URLs may name: exact names, `*.example.com` wildcards, or `*` for any (the default when
   * not given). Not checked for file URLs, which name no host.
   */
  allowedHosts?: readonly string[];
}

/** A local directory to index; later sources (git URLs) add a `kind`. */
export interface LocalSource {
  kind: "local";
  /** Absolute, or relative to the workspaces root. */
  path: string;
}

/** A git repository cloned into `<root>/<id>` with system git. */
export interface GitSource {
  kind: "git";
  url: string;
  /** Branch, tag or commit to check out (detached); default the remote's default branch. */
  ref?: string;
}

export type RepositorySource = LocalSource | GitSource;

const DEFAULT_SCHEMES = ["https", "ssh", "git"] as const;

function hostOf(url: string): string | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(url);
  if (scp && !url.includes("://")) return scp[1]!.toLowerCase();
  try {
    return new URL(url).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** `github.com` matches itself; `*.example.com` matches any subdomain; `*` matches every host. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p === "*") return true;
    if (p.startsWith("*.")) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
    return host === p;
  });
}

function schemeOf(url: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (match) return match[1]!.toLowerCase();
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(url)) return "ssh";
  return undefined;
}

/**
 * The repositories of a deployment, all under one configured root. A local source must resolve (after
 * symlinks) inside the root: an operator points the root at the directory that holds the checkouts.
 */
export class Workspaces {
  private readonly byId = new Map<string, Workspace>();
  private rootReal: string | undefined;

  constructor(private readonly options: WorkspacesOptions) {}

  async root(): Promise<string> {
    if (this.rootReal === undefined) {
      await mkdir(this.options.root, { recursive: true });
      this.rootReal = await realpath(this.options.root);
    }
    return this.rootReal;
  }

  async add(id: string, source: RepositorySource): Promise<Workspace> {
    if (this.byId.has(id)) throw new CodingInputError(`repository ${id} already exists`, "conflict");
    if (source.kind === "git") return this.clone(id, source);
    const root = await this.root();
    const dir = path.resolve(root, source.path);
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      throw new CodingInputError(`repository ${id}: local path ${source.path} does not exist`, "not_found");
    }
    if (!isInside(root, real))
      throw new PathConfinementError(
        `repository ${id}: local path ${source.path} resolves to ${real}, outside the workspaces root ${root}; move the checkout under the root or configure the root to contain it`,
      );
    const workspace = await Workspace.open(id, real);
    this.byId.set(id, workspace);
    return workspace;
  }

  private async clone(id: string, source: GitSource): Promise<Workspace> {
    if (!REPO_ID.test(id))
      throw new CodingInputError(
        `repository id "${id}" is invalid: use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    const allowed = this.options.allowedUrlSchemes ?? DEFAULT_SCHEMES;
    const scheme = schemeOf(source.url);
    if (source.url.startsWith("-") || scheme === undefined || !allowed.includes(scheme))
      throw new CodingInputError(
        `repository ${id}: git URL "${source.url}" is not allowed; use ${allowed.map((s) => `${s}://`).join(", ")}${allowed.includes("ssh") ? " or user@host:path" : ""}`,
        "url_not_allowed",
      );
    const hosts = this.options.allowedHosts;
    if (hosts !== undefined && scheme !== "file") {
      const host = hostOf(source.url);
      if (host === undefined || !hostAllowed(host, hosts))
        throw new CodingInputError(
          `repository ${id}: git host "${host ?? "(none)"}" is not allowed; allowed hosts: ${hosts.join(", ") || "none"} (coding.git.allowedHosts)`,
          "url_not_allowed",
        );
    }
    if (source.ref !== undefined && (source.ref.startsWith("-") || /[\s\0]/.test(source.ref)))
      throw new CodingInputError(`repository ${id}: ref "${source.ref}" is not a branch, tag or commit name`);
    const root = await this.root();
    const dir = path.join(root, id);
    if (await lstat(dir).catch(() => undefined))
      throw new CodingInputError(
        `repository ${id}: ${dir} already exists; remove it or add it as a local source`,
        "conflict",
      );
    const protocols = [
      "-c",
      "protocol.ext.allow=never",
      "-c",
      `protocol.file.allow=${allowed.includes("file") ? "always" : "never"}`,
    ];
    try {
      const cloned = await git(root, [
        ...protocols,
        "clone",
        "--quiet",
        "--no-recurse-submodules",
        "--",
        source.url,
        id,
      ]);
      if (cloned.code !== 0)
        throw new CodingInputError(
          `repository ${id}: git clone ${source.url} failed: ${cloned.stderr.trim()}`,
          "clone_failed",
        );
      if (source.ref !== undefined) {
        let commit: string | undefined;
        for (const candidate of [source.ref, `origin/${source.ref}`]) {
          const found = await git(dir, ["rev-parse", "--verify", "--quiet", `${candidate}^{commit}`]);
          if (found.code === 0) {
            commit = found.stdout.trim();
            break;
          }
        }
        if (!commit)
          throw new CodingInputError(
            `repository ${id}: ${source.url} has no branch, tag or commit "${source.ref}"`,
            "not_found",
          );
        const checkout = await git(dir, ["checkout", "--quiet", "--detach", commit]);
        if (checkout.code !== 0)
          throw new CodingInputError(
            `repository ${id}: git checkout ${source.ref} failed: ${checkout.stderr.trim()}`,
          );
      }
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const workspace = await Workspace.open(id, dir);
    this.byId.set(id, workspace);
    return workspace;
  }

  get(id: string): Workspace {
    const workspace = this.byId.get(id);
    if (!workspace)
      throw new CodingInputError(
        `unknown repository "${id}"; known: ${[...this.byId.keys()].join(", ") || "none"}`,
        "not_found",
      );
    return workspace;
  }

  list(): Workspace[] {
    return [...this.byId.values()];
  }

  remove(id: string): boolean {
    return this.byId.delete(id);
  }
}
