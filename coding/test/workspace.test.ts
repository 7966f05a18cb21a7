import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PathConfinementError } from "../src/errors.js";
import { normaliseRelativePath, Workspaces } from "../src/workspace.js";

let base: string;
let outside: string;
let workspaces: Workspaces;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "aat-coding-ws-"));
  outside = path.join(base, "outside");
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), "secret");
  const root = path.join(base, "root");
  await mkdir(path.join(root, "repo", "src"), { recursive: true });
  await writeFile(path.join(root, "repo", "src", "a.ts"), "export const a = 1;\n");
  await symlink(outside, path.join(root, "repo", "out-dir"));
  await symlink(path.join(outside, "secret.txt"), path.join(root, "repo", "out-file"));
  await symlink(path.join(base, "nowhere"), path.join(root, "repo", "dangling"));
  await symlink(path.join(root, "repo", "src"), path.join(root, "repo", "in-link"));
  await symlink(outside, path.join(root, "escape"));
  workspaces = new Workspaces({ root });
  await workspaces.add("repo", { kind: "local", path: "repo" });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("path confinement", () => {
  it("normalises harmless relative paths", () => {
    expect(normaliseRelativePath("./src//a.ts")).toBe("src/a.ts");
    expect(normaliseRelativePath(".")).toBe("");
  });

  it.each([
    ["../outside/secret.txt", /contains "\.\."/],
    ["src/../../outside", /contains "\.\."/],
    ["/etc/passwd", /is absolute/],
    ["C:/Windows", /is absolute/],
    ["src\\..\\..\\x", /backslash/],
    ["src/a.ts\0", /NUL byte/],
  ])("refuses %j", async (attack, message) => {
    const ws = workspaces.get("repo");
    await expect(ws.resolve(attack)).rejects.toThrow(message);
    await expect(ws.resolve(attack)).rejects.toBeInstanceOf(PathConfinementError);
  });

  it("refuses symlinks pointing out: directories, files, files below a linked directory, new files in it", async () => {
    const ws = workspaces.get("repo");
    await expect(ws.resolve("out-dir")).rejects.toThrow(/symbolic link .*outside repository repo/);
    await expect(ws.resolve("out-file")).rejects.toThrow(/outside repository repo/);
    await expect(ws.resolve("out-dir/secret.txt")).rejects.toThrow(/outside repository repo/);
    await expect(ws.resolve("out-dir/new-file.txt")).rejects.toThrow(/outside repository repo/);
    await expect(ws.writeText("out-dir/planted.txt", "x")).rejects.toBeInstanceOf(PathConfinementError);
    await expect(ws.readText("out-file")).rejects.toBeInstanceOf(PathConfinementError);
  });

  it("refuses a dangling symlink", async () => {
    await expect(workspaces.get("repo").resolve("dangling/x")).rejects.toThrow(/target does not exist/);
  });

  it("follows links that stay inside and resolves new files", async () => {
    const ws = workspaces.get("repo");
    expect(await ws.resolve("in-link/a.ts")).toBe(path.join(ws.dir, "src", "a.ts"));
    expect(await ws.resolve("src/new/b.ts")).toBe(path.join(ws.dir, "src", "new", "b.ts"));
    expect(await ws.readText("src/a.ts")).toBe("export const a = 1;\n");
  });
});

describe("workspaces root", () => {
  it("refuses local sources outside the root, directly or through a link", async () => {
    await expect(workspaces.add("x", { kind: "local", path: outside })).rejects.toThrow(
      /outside the workspaces root/,
    );
    await expect(workspaces.add("y", { kind: "local", path: "../outside" })).rejects.toThrow(
      /outside the workspaces root/,
    );
    await expect(workspaces.add("z", { kind: "local", path: "escape" })).rejects.toThrow(
      /outside the workspaces root/,
    );
  });

  it("refuses bad ids, unknown and duplicate repositories", async () => {
    await expect(workspaces.add("../x", { kind: "local", path: "repo" })).rejects.toThrow(
      /id "..\/x" is invalid/,
    );
    await expect(workspaces.add("repo", { kind: "local", path: "repo" })).rejects.toThrow(/already exists/);
    expect(() => workspaces.get("nope")).toThrow(/unknown repository "nope"; known: repo/);
  });
});
