import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Workspaces } from "../src/workspace.js";
import { writeTree } from "./helpers/repo.js";

let base: string;
let origin: string;
let firstCommit: string;
const run = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

beforeAll(async () => {
  base = await writeTree({ "origin/README.md": "v1\n" });
  origin = path.join(base, "origin");
  run(origin, "init", "-q", "-b", "main");
  run(origin, "add", ".");
  run(origin, "commit", "-q", "-m", "one");
  firstCommit = run(origin, "rev-parse", "HEAD");
  await writeFile(path.join(origin, "README.md"), "v2\n");
  run(origin, "commit", "-q", "-am", "two");
  run(origin, "branch", "feature", firstCommit);
  await mkdir(path.join(base, "root"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("git URL sources", () => {
  it("clones into <root>/<id> at the default branch, a branch or a commit", async () => {
    const workspaces = new Workspaces({ root: path.join(base, "root"), allowedUrlSchemes: ["file"] });
    const url = `file://${origin}`;
    const main = await workspaces.add("main", { kind: "git", url });
    expect(main.dir).toBe(path.join(await workspaces.root(), "main"));
    expect(await readFile(path.join(main.dir, "README.md"), "utf8")).toBe("v2\n");
    const feature = await workspaces.add("feature", { kind: "git", url, ref: "feature" });
    expect(await feature.readText("README.md")).toBe("v1\n");
    const pinned = await workspaces.add("pinned", { kind: "git", url, ref: firstCommit.slice(0, 10) });
    expect(run(pinned.dir, "rev-parse", "HEAD")).toBe(firstCommit);
  });

  it("refuses disallowed schemes, option-like URLs and refs, existing directories; cleans up a failed clone", async () => {
    const workspaces = new Workspaces({ root: path.join(base, "root") });
    await expect(workspaces.add("a", { kind: "git", url: `file://${origin}` })).rejects.toThrow(
      /git URL "file:\/\/.*" is not allowed; use https:\/\/, ssh:\/\/, git:\/\/ or user@host:path/,
    );
    await expect(workspaces.add("b", { kind: "git", url: "ext::sh -c touch% /tmp/pwned" })).rejects.toThrow(
      /is not allowed/,
    );
    await expect(workspaces.add("c", { kind: "git", url: "--upload-pack=touch /tmp/pwned" })).rejects.toThrow(
      /is not allowed/,
    );
    await expect(workspaces.add("d", { kind: "git", url: origin })).rejects.toThrow(/is not allowed/);
    const files = new Workspaces({ root: path.join(base, "root"), allowedUrlSchemes: ["file"] });
    await expect(files.add("e", { kind: "git", url: `file://${origin}`, ref: "--orphan" })).rejects.toThrow(
      /ref "--orphan" is not a branch, tag or commit name/,
    );
    await expect(files.add("main", { kind: "git", url: `file://${origin}` })).rejects.toThrow(
      /already exists/,
    );
    await expect(files.add("f", { kind: "git", url: `file://${origin}`, ref: "nope" })).rejects.toThrow(
      /has no branch, tag or commit "nope"/,
    );
    expect(existsSync(path.join(base, "root", "f"))).toBe(false);
    await expect(files.add("g", { kind: "git", url: `file://${base}/missing` })).rejects.toThrow(
      /git clone .* failed/,
    );
    expect(existsSync(path.join(base, "root", "g"))).toBe(false);
  });
});
