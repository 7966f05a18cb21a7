import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { callTool, type Tool, type ToolCallContext, ToolRegistry } from "@aat/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PathConfinementError } from "../src/errors.js";
import { CodingService } from "../src/service.js";
import { codingTools } from "../src/tools.js";
import { Workspaces } from "../src/workspace.js";
import { fixtureRepository, writeTree } from "./helpers/repo.js";

let base: string;
let repoDir: string;
let tools: Map<string, Tool>;

const call = (name: string, input: unknown, approval?: ToolCallContext["approval"]) =>
  callTool(tools.get(name)!, input, {
    runId: "r1",
    stepKey: "s1",
    attempt: 1,
    idempotencyKey: "r1/s1/1",
    signal: new AbortController().signal,
    ...(approval ? { approval } : {}),
  });

const gitIn = (...args: string[]) => execFileSync("git", args, { cwd: repoDir, encoding: "utf8" });

beforeAll(async () => {
  base = await writeTree({ "outside/secret.txt": "secret\n" });
  repoDir = path.join(base, "root", "repo");
  await mkdir(repoDir, { recursive: true });
  const source = await writeTree(fixtureRepository);
  execFileSync("cp", ["-a", `${source}/.`, repoDir]);
  await rm(source, { recursive: true });
  await symlink(path.join(base, "outside"), path.join(repoDir, "linked"));
  await symlink("src/auth/session.ts", path.join(repoDir, "inside-link.ts"));
  gitIn("init", "-q", "-b", "main");
  gitIn("add", ".");
  gitIn("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "initial");
  const workspaces = new Workspaces({ root: path.join(base, "root") });
  await workspaces.add("repo", { kind: "local", path: "repo" });
  const service = new CodingService({ workspaces, kv: new MemoryKeyValue(), index: { maxFileBytes: 2_000 } });
  tools = new Map(codingTools(service).map((t) => [t.name, t]));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("reading tools", () => {
  it("registers with capabilities; only apply_patch is dangerous and writes", () => {
    const registry = new ToolRegistry([...tools.values()]);
    expect(registry.get("code.search")?.capabilities).toEqual(["repo.read"]);
    expect([...tools.values()].filter((t) => t.dangerous).map((t) => [t.name, t.capabilities])).toEqual([
      ["code.apply_patch", ["repo.write"]],
    ]);
  });

  it("code.search ranks the defining file first", async () => {
    const out = (await call("code.search", { repo: "repo", query: "loginUser", limit: 2 })) as {
      hits: Array<{ path: string }>;
    };
    expect(out.hits.map((h) => h.path)).toEqual(["src/auth/login.ts", "docs/guide.md"]);
  });

  it("code.symbols and code.references", async () => {
    expect(await call("code.symbols", { repo: "repo", path: "src/auth/session.ts" })).toEqual({
      symbols: [
        {
          path: "src/auth/session.ts",
          name: "SessionStore",
          kind: "class",
          range: { startLine: 1, startColumn: 7, endLine: 5, endColumn: 1 },
        },
        {
          path: "src/auth/session.ts",
          name: "open",
          kind: "method",
          container: "SessionStore",
          range: { startLine: 2, startColumn: 2, endLine: 4, endColumn: 3 },
        },
      ],
    });
    const refs = (await call("code.references", { repo: "repo", name: "open" })) as {
      definitions: Array<{ path: string }>;
      references: Array<{ path: string; line: number }>;
    };
    expect(refs.definitions.map((d) => d.path)).toEqual(["src/auth/session.ts"]);
    expect(refs.references.map((r) => `${r.path}:${r.line}`)).toEqual(["src/auth/login.ts:6"]);
  });

  it("code.read returns line ranges and refuses paths out", async () => {
    expect(
      await call("code.read", { repo: "repo", path: "src/auth/session.ts", startLine: 2, endLine: 3 }),
    ).toEqual({
      path: "src/auth/session.ts",
      startLine: 2,
      endLine: 3,
      totalLines: 5,
      text: "  open(user: string, secret: string) {\n    return { user, token: secret.length };",
    });
    await expect(
      call("code.read", { repo: "repo", path: "src/auth/session.ts", startLine: 9 }),
    ).rejects.toThrow(/has 5 lines; startLine 9 is past the end/);
    await expect(call("code.read", { repo: "repo", path: "../outside/secret.txt" })).rejects.toBeInstanceOf(
      PathConfinementError,
    );
    await expect(call("code.read", { repo: "repo", path: "linked/secret.txt" })).rejects.toThrow(
      /symbolic link/,
    );
    await expect(call("code.read", { repo: "nope", path: "a" })).rejects.toThrow(/unknown repository "nope"/);
  });

  it("code.tree lists indexed entries to a depth", async () => {
    expect(await call("code.tree", { repo: "repo", path: "src", depth: 1 })).toEqual({
      entries: [
        { path: "src/auth", type: "directory" },
        { path: "src/util", type: "directory" },
      ],
    });
    const root = (await call("code.tree", { repo: "repo", depth: 1 })) as {
      entries: Array<{ path: string }>;
    };
    // Symbolic links are never followed or listed by the indexer; ignored files are not listed.
    expect(root.entries.map((e) => e.path)).toEqual([".gitignore", "docs", "pkg", "scripts", "src"]);
    const deep = (await call("code.tree", { repo: "repo", path: "src/auth", depth: 5 })) as {
      entries: unknown[];
    };
    expect(deep.entries).toContainEqual({
      path: "src/auth/login.ts",
      type: "file",
      lines: 7,
      language: "typescript",
    });
  });
});

const sessionDiff = [
  "--- a/src/auth/session.ts",
  "+++ b/src/auth/session.ts",
  "@@ -1,5 +1,6 @@",
  " export class SessionStore {",
  "   open(user: string, secret: string) {",
  "-    return { user, token: secret.length };",
  "+    const token = secret.length;",
  "+    return { user, token };",
  "   }",
  " }",
  "",
].join("\n");

describe("code.propose_patch", () => {
  it("builds a diff from whole-file edits and validates it", async () => {
    const out = (await call("code.propose_patch", {
      repo: "repo",
      edits: [
        { path: "src/util/strings.ts", content: "export const x = 1;\n" },
        { path: "src/new.ts", content: "export const y = 2;\n" },
        { path: "scripts/report.py", content: null },
      ],
    })) as { diff: string; files: unknown[] };
    expect(out.files).toEqual([
      { path: "src/util/strings.ts", status: "modified", additions: 1, deletions: 3 },
      { path: "src/new.ts", status: "added", additions: 1, deletions: 0 },
      { path: "scripts/report.py", status: "deleted", additions: 0, deletions: 2 },
    ]);
    expect(out.diff).toContain("--- /dev/null\n+++ b/src/new.ts");
    // Proposing writes nothing.
    expect(await readFile(path.join(repoDir, "src/util/strings.ts"), "utf8")).toContain("padLeft");
  });

  it("accepts a diff that applies cleanly and refuses a stale one", async () => {
    expect(await call("code.propose_patch", { repo: "repo", diff: sessionDiff })).toMatchObject({
      files: [{ path: "src/auth/session.ts", status: "modified", additions: 2, deletions: 1 }],
    });
    await expect(
      call("code.propose_patch", {
        repo: "repo",
        diff: sessionDiff.replace("secret.length };", "secret.size };"),
      }),
    ).rejects.toThrow(/does not apply cleanly to src\/auth\/session.ts/);
    await expect(call("code.propose_patch", { repo: "repo", diff: "hello" })).rejects.toThrow(
      /changes nothing/,
    );
    await expect(call("code.propose_patch", { repo: "repo" })).rejects.toThrow(
      /exactly one of diff or edits/,
    );
  });

  it.each([
    ["../outside/secret.txt", /contains "\.\."/],
    ["src/../../outside/secret.txt", /contains "\.\."/],
    ["/etc/passwd", /is absolute/],
    ["linked/secret.txt", /symbolic link/],
    ["linked/new.txt", /symbolic link/],
    [".git/config", /inside \.git/],
    ["src/.GIT/hooks/pre-commit", /inside \.git/],
  ])("refuses a patch touching %s", async (target, message) => {
    const diff = `--- a/${target}\n+++ b/${target}\n@@ -1 +1 @@\n-secret\n+owned\n`;
    const creating = `--- /dev/null\n+++ b/${target}\n@@ -0,0 +1 @@\n+owned\n`;
    await expect(call("code.propose_patch", { repo: "repo", diff })).rejects.toThrow(message);
    await expect(call("code.propose_patch", { repo: "repo", diff: creating })).rejects.toBeInstanceOf(
      PathConfinementError,
    );
    await expect(call("code.apply_patch", { repo: "repo", diff })).rejects.toThrow(message);
    await expect(
      call("code.propose_patch", { repo: "repo", edits: [{ path: target, content: "owned\n" }] }),
    ).rejects.toBeInstanceOf(PathConfinementError);
    expect(await readFile(path.join(base, "outside/secret.txt"), "utf8")).toBe("secret\n");
  });
});

describe("symbolic links inside the repository", () => {
  it("a patch may not change a link itself (it could point it out), in the working tree or at HEAD", async () => {
    const retarget =
      "--- a/inside-link.ts\n+++ b/inside-link.ts\n@@ -1 +1 @@\n-src/auth/session.ts\n\\ No newline at end of file\n+/etc/passwd\n\\ No newline at end of file\n";
    await expect(call("code.propose_patch", { repo: "repo", diff: retarget })).rejects.toThrow(
      /inside-link.ts is a symbolic link; patches do not change links/,
    );
    await expect(call("code.apply_patch", { repo: "repo", diff: retarget })).rejects.toThrow(
      /is a symbolic link/,
    );
    expect(gitIn("ls-tree", "HEAD", "inside-link.ts").split(" ")[0]).toBe("120000");
    // The working tree may hold a regular file there; HEAD's mode still decides.
    await rm(path.join(repoDir, "inside-link.ts"));
    await writeFile(path.join(repoDir, "inside-link.ts"), "src/auth/session.ts");
    await expect(call("code.apply_patch", { repo: "repo", diff: retarget })).rejects.toThrow(
      /inside-link.ts is a symbolic link at HEAD; patches only change regular files/,
    );
    await rm(path.join(repoDir, "inside-link.ts"));
    gitIn("checkout", "--", "inside-link.ts");
  });
});

describe("code.apply_patch", () => {
  it("commits on a new branch without touching the working tree and returns the diff stat", async () => {
    const head = gitIn("rev-parse", "HEAD").trim();
    const out = (await call(
      "code.apply_patch",
      { repo: "repo", diff: sessionDiff, branch: "aat/session-token" },
      { approved: true, by: "alice", at: 1 },
    )) as { branch: string; base: string; commit: string; stat: string; files: unknown[] };
    expect(out).toMatchObject({
      branch: "aat/session-token",
      base: head,
      files: [{ path: "src/auth/session.ts", status: "modified", additions: 2, deletions: 1 }],
    });
    expect(out.stat).toMatch(
      /src\/auth\/session.ts \| 3 \+\+-\n 1 file changed, 2 insertions\(\+\), 1 deletion\(-\)/,
    );
    expect(gitIn("rev-parse", "aat/session-token").trim()).toBe(out.commit);
    expect(gitIn("show", "aat/session-token:src/auth/session.ts")).toContain("const token = secret.length;");
    expect(gitIn("log", "-1", "--format=%an %s", "aat/session-token").trim()).toBe(
      "aat aat: patch approved by alice",
    );
    // The checkout is unchanged: same branch, same HEAD, clean tree.
    expect(gitIn("rev-parse", "--abbrev-ref", "HEAD").trim()).toBe("main");
    expect(gitIn("rev-parse", "HEAD").trim()).toBe(head);
    expect(gitIn("status", "--porcelain").trim()).toBe("");

    await expect(
      call("code.apply_patch", { repo: "repo", diff: sessionDiff, branch: "aat/session-token" }),
    ).rejects.toThrow(/branch aat\/session-token already exists/);
    await expect(
      call("code.apply_patch", { repo: "repo", diff: sessionDiff, branch: "bad..name" }),
    ).rejects.toThrow(/not a valid branch name/);
  });

  it("adds and deletes files, keeping the mode of changed ones", async () => {
    await writeFile(path.join(repoDir, "run.sh"), "echo hi\n", { mode: 0o755 });
    gitIn("add", "run.sh");
    gitIn("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "script");
    const diff = [
      "--- a/run.sh",
      "+++ b/run.sh",
      "@@ -1 +1 @@",
      "-echo hi",
      "+echo hello",
      "--- /dev/null",
      "+++ b/src/added.ts",
      "@@ -0,0 +1 @@",
      "+export const added = true;",
      "--- a/scripts/report.py",
      "+++ /dev/null",
      "@@ -1,2 +0,0 @@",
      "-def build_report(rows):",
      "-    return len(rows)",
      "",
    ].join("\n");
    const out = (await call("code.apply_patch", { repo: "repo", diff })) as { branch: string };
    expect(out.branch).toMatch(/^aat\/patch-[0-9a-f]{8}$/);
    expect(gitIn("ls-tree", out.branch, "run.sh").split(" ")[0]).toBe("100755");
    expect(gitIn("show", `${out.branch}:src/added.ts`)).toBe("export const added = true;\n");
    expect(gitIn("ls-tree", "-r", "--name-only", out.branch)).not.toContain("scripts/report.py");
  });

  it("validates against HEAD: a diff made for uncommitted changes is refused", async () => {
    await writeFile(path.join(repoDir, "src/util/strings.ts"), "export const changed = 1;\n");
    const diff =
      "--- a/src/util/strings.ts\n+++ b/src/util/strings.ts\n@@ -1 +1 @@\n-export const changed = 1;\n+export const changed = 2;\n";
    await expect(call("code.propose_patch", { repo: "repo", diff })).resolves.toBeDefined();
    await expect(call("code.apply_patch", { repo: "repo", diff })).rejects.toThrow(/does not apply cleanly/);
    gitIn("checkout", "--", "src/util/strings.ts");
  });
});
